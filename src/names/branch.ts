/**
 * Where the branch name comes from (DESIGN §4): `--branch`, else `BRANCH_NAME`, else `JOB_NAME`
 * (last path segment, URL-decoded), else the checked-out git branch.
 *
 * Empty environment variables count as unset, like `${VAR}` in the config. Surrounding whitespace is
 * trimmed everywhere: git ref names cannot contain whitespace, so it can only be a copy-paste stray.
 */
import {ToolError, UsageError} from '../errors.js'

export type BranchSource = 'flag' | 'BRANCH_NAME' | 'JOB_NAME' | 'git'

export interface ResolvedBranch {
  branch: string
  source: BranchSource
}

export interface ResolveBranchOptions {
  flag?: string
  env: Readonly<Record<string, string | undefined>>
  /** Repository used by the git fallback. */
  cwd: string
}

const HOW_TO_SET = ['set BRANCH_NAME (Jenkins multibranch jobs set it)', 'or pass --branch <name>']

/**
 * The branch in a Jenkins `JOB_NAME`: its last `/`-separated segment, percent-decoded.
 * Multibranch jobs encode `/` inside a branch name as `%2F`, so `shop/feature%2FJIRA-1_%C3%9Cber`
 * → `feature/JIRA-1_Über`. Only complete UTF-8 escape sequences are decoded; a stray `%` stays as is.
 */
export function branchFromJobName(jobName: string): string {
  const segments = jobName.split('/').filter((s) => s.trim() !== '')
  const last = segments.at(-1) ?? ''
  const branch = last.replace(/(?:%[0-9A-Fa-f]{2})+/g, (escapes) => {
    try {
      return decodeURIComponent(escapes)
    } catch {
      return escapes
    }
  }).trim()
  if (branch === '') {
    throw new UsageError(`JOB_NAME ${JSON.stringify(jobName)} does not name a branch`, {suggestions: HOW_TO_SET})
  }
  return branch
}

export async function resolveBranch(opts: ResolveBranchOptions): Promise<ResolvedBranch> {
  if (opts.flag !== undefined) {
    const branch = opts.flag.trim()
    if (branch === '') throw new UsageError('--branch is empty', {suggestions: ['pass a branch name, or leave --branch out to use BRANCH_NAME / JOB_NAME / git']})
    return notHead({branch, source: 'flag'})
  }
  const branchName = opts.env.BRANCH_NAME?.trim()
  if (branchName) return notHead({branch: branchName, source: 'BRANCH_NAME'})
  const jobName = opts.env.JOB_NAME?.trim()
  if (jobName) return notHead({branch: branchFromJobName(jobName), source: 'JOB_NAME'})
  return {branch: await gitBranch(opts.cwd), source: 'git'}
}

/**
 * `HEAD` is no branch (git refuses it as a branch name): it is what `git rev-parse --abbrev-ref HEAD`
 * prints in a detached checkout, as Jenkins makes. Taken as a name, every branch built that way would
 * share one namespace and replace each other's environment.
 */
function notHead(resolved: ResolvedBranch): ResolvedBranch {
  if (resolved.branch !== 'HEAD') return resolved
  const from = resolved.source === 'flag' ? '--branch' : resolved.source
  throw new UsageError(`${from} is "HEAD", which is not a branch name: a detached checkout's \`git rev-parse --abbrev-ref HEAD\` prints it`, {
    suggestions: ['in a multibranch job leave BRANCH_NAME to Jenkins; elsewhere pass the real branch, e.g. from GIT_BRANCH without its remote ("origin/")'],
  })
}

/** The checked-out branch of the repository at `cwd`. simple-git is loaded only when we get here. */
async function gitBranch(cwd: string): Promise<string> {
  const {simpleGit} = await import('simple-git')
  let out: string
  try {
    // symbolic-ref, not `rev-parse --abbrev-ref`: it also names the branch of a repository without
    // commits yet (`git init`, then `shopsys-ci init` and `names`), and prints nothing when detached.
    out = (await simpleGit({baseDir: cwd}).raw(['symbolic-ref', '--short', '-q', 'HEAD'])).trim()
  } catch (error) {
    const message = error instanceof Error ? error.message.trim() : String(error)
    if ((error as NodeJS.ErrnoException).code === 'ENOENT' || /spawn git ENOENT/.test(message)) {
      throw new ToolError('cannot determine the branch: git is not installed and neither BRANCH_NAME nor JOB_NAME is set', {
        suggestions: HOW_TO_SET,
        cause: error,
      })
    }
    throw new UsageError(`cannot determine the branch: BRANCH_NAME and JOB_NAME are not set, and git failed in ${cwd}: ${message.split('\n')[0]}`, {
      suggestions: HOW_TO_SET,
      cause: error,
    })
  }
  if (out === 'HEAD' || out === '') {
    throw new UsageError(`cannot determine the branch: the git checkout in ${cwd} is a detached HEAD (usual in Jenkins) and neither BRANCH_NAME nor JOB_NAME is set`, {
      suggestions: HOW_TO_SET,
    })
  }
  return out
}

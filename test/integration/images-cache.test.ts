/**
 * The registry build cache (build.cache, docs/images.md) on the real stack, with both builders: an
 * image is built and pushed on branch A, every local trace of it removed (as on a fresh agent), and
 * a later commit of A — then a new branch B that falls back to A — must take the expensive first
 * step from the registry: BuildKit prints `CACHED` for it, the legacy builder `Using cache`, and the
 * file that step wrote from /dev/urandom is the one of the first build. With `registry: false`
 * the step runs again.
 *
 * Every test has its own repository and a RUN step with its own nonce, so no other build shares the
 * layer. Removing the local traces includes `docker builder prune -af` for BuildKit: it clears the
 * stack daemon's whole build cache, which only costs other tests time.
 */
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {copyFile, mkdir, rm, symlink, writeFile} from 'node:fs/promises'
import path from 'node:path'

import test, {type ExecutionContext} from 'ava'

import {cacheTag} from '../../src/images/cache.js'
import {HttpRegistryClient} from '../../src/images/registry.js'
import {BUSYBOX} from '../fixtures/images/prepare.js'
import {STACK_HINT} from '../helpers/stack.js'
import {cli, type CliRun, json, newCommit, registry, type Report, userEnv} from './images-helpers.js'
import {tempDir} from '../helpers/tmp.js'

const plugins = process.env.SHOPSYS_CI_TEST_DOCKER_PLUGINS
const buildxReady = plugins !== undefined && existsSync(path.join(plugins, 'docker-buildx'))
if (registry === undefined || !buildxReady) {
  test.serial(`the test stack is configured, with docker buildx (${STACK_HINT})`, (t) =>
    t.fail('SHOPSYS_CI_TEST_REGISTRY* or SHOPSYS_CI_TEST_DOCKER_PLUGINS (with docker-buildx in it) are not set; test/stack/up builds buildx'),
  )
}
const stackTest = registry !== undefined && buildxReady ? test.serial : test.serial.skip

type Builder = 'legacy' | 'buildkit'

function docker(args: string[]): string {
  const result = spawnSync('docker', args, {encoding: 'utf8'})
  if (result.status !== 0) throw new Error(`docker ${args.join(' ')} exited with ${result.status}:\n${result.stdout}${result.stderr}`)
  return result.stdout
}

interface App {
  dir: string
  image: string
  repository: string
  /** Unique per test: in the RUN step's text, so no other build has its layer. */
  nonce: string
  env: (extra?: Record<string, string>) => Record<string, string>
  config: (cache: string) => Promise<void>
  /** The input of the last step only. */
  change: (text: string) => Promise<void>
}

/** One image: busybox, an expensive RUN step writing random bytes, then a cheap step we change. */
async function app(t: ExecutionContext, builder: Builder): Promise<App> {
  const dir = tempDir('shopsys-ci-images-cache-')
  const home = tempDir('shopsys-ci-cache-home-')
  t.teardown(() => Promise.all([rm(dir, {recursive: true, force: true}), rm(home, {recursive: true, force: true})]))
  const nonce = randomBytes(6).toString('hex')
  const image = `cache-${builder}-${nonce}`
  await mkdir(path.join(dir, 'img'), {recursive: true})
  await mkdir(path.join(dir, '.ci'))
  await copyFile(BUSYBOX, path.join(dir, 'img/busybox'))
  await writeFile(
    path.join(dir, 'img/Dockerfile'),
    [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      `RUN ["/bin/busybox", "sh", "-c", "echo expensive step ${nonce}; /bin/busybox head -c 16 /dev/urandom | /bin/busybox od -An -tx1 > /first; /bin/busybox sleep 1"]`,
      'COPY later.txt /later.txt',
      '',
    ].join('\n'),
  )
  await writeFile(path.join(dir, 'img/later.txt'), 'one\n')
  if (builder === 'buildkit') {
    await mkdir(path.join(home, '.docker/cli-plugins'), {recursive: true})
    await symlink(path.join(plugins!, 'docker-buildx'), path.join(home, '.docker/cli-plugins/docker-buildx'))
  }
  const repository = `${registry!.registry}/${registry!.user}/${image}`
  t.teardown(() => removeLocal(repository, builder))
  return {
    dir,
    image,
    repository,
    nonce,
    env: (extra = {}) => {
      const env = userEnv({HOME: home, GIT_COMMIT: newCommit(), ...extra})
      // The stack's DOCKER_BUILDKIT=0 chooses the legacy builder; BuildKit needs it gone.
      if (builder === 'buildkit') delete env.DOCKER_BUILDKIT
      return env
    },
    config: (cache) =>
      writeFile(path.join(dir, '.ci/shopsys-ci.yaml'), `project: cachetest\nimages:\n  - name: ${image}\n    context: img\nbuild:\n  network: none\n  cache:\n${cache}`),
    change: (text) => writeFile(path.join(dir, 'img/later.txt'), `${text}\n`),
  }
}

/** A fresh agent: no image of the repository in the daemon, and (BuildKit) no build cache. */
function removeLocal(repository: string, builder: Builder): void {
  const ids = [...new Set(docker(['image', 'ls', '--quiet', repository]).split('\n').filter(Boolean))]
  if (ids.length > 0) docker(['image', 'rm', '--force', ...ids])
  if (builder === 'buildkit') docker(['builder', 'prune', '--all', '--force'])
}

function build(a: App, env: Record<string, string>, flags: string[] = []): Promise<CliRun> {
  return cli(['images', 'build', '--push', '--json', '--workspace', a.dir, ...flags], env)
}

/** The builder's own verdict on the expensive step: taken from a cache, or run. */
function expensiveStep(run: CliRun, a: App, builder: Builder): 'cached' | 'ran' | 'not found' {
  // With --json, the log goes to stderr.
  const lines = run.stderr.split('\n').filter((l) => l.startsWith(`[${a.image}] `)).map((l) => l.slice(a.image.length + 3))
  const at = lines.findIndex((l) => l.includes('RUN [') && l.includes(`echo expensive step ${a.nonce}`))
  if (at < 0) return 'not found'
  if (builder === 'legacy') {
    // Step 3/4 : RUN […] then ` ---> Using cache`, or ` ---> Running in <container>`.
    return lines[at + 1] === ' ---> Using cache' ? 'cached' : lines[at + 1]?.startsWith(' ---> Running in ') ? 'ran' : 'not found'
  }
  // `#7 [2/3] RUN […]`, later `#7 CACHED`, or the step's own output and `#7 DONE 1.1s`.
  const step = /^#(\d+) /.exec(lines[at])![1]
  const own = lines.filter((l) => l.startsWith(`#${step} `))
  if (own.includes(`#${step} CACHED`)) return 'cached'
  return own.some((l) => l.endsWith(`expensive step ${a.nonce}`)) ? 'ran' : 'not found'
}

/** What the expensive step wrote, and the cheap one, in the built image. */
function contents(reference: string): {first: string; later: string} {
  const read = (file: string) => docker(['run', '--rm', '--network', 'none', reference, '/bin/busybox', 'cat', file]).trim()
  return {first: read('/first'), later: read('/later.txt')}
}

const client = () => new HttpRegistryClient({host: registry!.registry}, {credentials: {username: registry!.user, password: registry!.password}})

for (const builder of ['legacy', 'buildkit'] as const) {
  stackTest(`${builder}: a fresh agent builds a branch's next commit, and a new branch, from the registry cache`, async (t) => {
    const a = await app(t, builder)
    const branchA = `feature/cache-a-${a.nonce}`
    const branchB = `feature/cache-b-${a.nonce}`
    const cacheA = `${a.repository}:${cacheTag(branchA)}`
    const cacheB = `${a.repository}:${cacheTag(branchB)}`
    await a.config('    registry: true\n')

    // 1. The first build of A: no cache anywhere; the pushed image becomes A's cache tag.
    const first = await build(a, a.env(), ['--branch', branchA])
    t.is(first.code, 0, first.stderr)
    t.regex(first.stderr, new RegExp(`building with ${builder === 'legacy' ? 'the legacy builder' : 'BuildKit'}`))
    t.is(expensiveStep(first, a, builder), 'ran')
    t.true(first.stderr.includes(`[${a.image}] build cache: ${cacheTag(branchA)} not in ${registry!.registry} yet; building without one\n`), first.stderr)
    t.true(first.stderr.includes(`[${a.image}] build cache: pushed ${cacheA}\n`), first.stderr)
    t.false(first.stderr.includes('#3 ERROR'), 'BuildKit was not given a reference the registry does not have')
    const built = json<Report>(first).images[0]
    t.is(built.status, 'built')
    t.deepEqual(await client().manifest(`${registry!.user}/${a.image}`, cacheTag(branchA)), {exists: true, digest: built.digest}, 'the cache tag is the pushed image')
    const original = contents(built.reference)
    t.is(original.later, 'one')
    t.regex(original.first, /^[0-9a-f]{2}( [0-9a-f]{2}){15}$/)

    // 2. A's next commit on a fresh agent: only the last step's input changed.
    removeLocal(a.repository, builder)
    t.is(docker(['image', 'ls', '--quiet', a.repository]), '', 'no local trace is left')
    await a.change('two')
    const second = await build(a, a.env({BRANCH_NAME: branchA}))
    t.is(second.code, 0, second.stderr)
    t.is(expensiveStep(second, a, builder), 'cached', second.stderr)
    t.true(second.stderr.includes(`[${a.image}] build cache: pulled ${cacheA} (this branch)\n`), second.stderr)
    const next = json<Report>(second).images[0]
    t.is(next.status, 'built')
    t.deepEqual(contents(next.reference), {first: original.first, later: 'two'}, 'the first step\'s output came from the cache; the changed step ran')
    t.is((await client().manifest(`${registry!.user}/${a.image}`, cacheTag(branchA))).digest, next.digest, 'A\'s cache tag moved to the new image')

    // 3. A new branch B, on a fresh agent again, falls back to A's cache until it has its own. A's
    //    cache image now comes from a build that was itself served from the cache: with BuildKit's
    //    lazy registry import its inline cache lacked those steps' layers, and this step ran again.
    //    The pull before the build is what keeps it warm.
    removeLocal(a.repository, builder)
    await a.config(`    registry: true\n    fallbackBranches: [${branchA}]\n`)
    await a.change('three')
    const third = await build(a, a.env({BRANCH_NAME: branchB}))
    t.is(third.code, 0, third.stderr)
    t.is(expensiveStep(third, a, builder), 'cached', third.stderr)
    t.true(third.stderr.includes(`[${a.image}] build cache: ${cacheTag(branchB)} not in ${registry!.registry} yet; pulled ${cacheA} (fallback branch ${branchA})\n`), third.stderr)
    t.true(third.stderr.includes(`[${a.image}] build cache: pushed ${cacheB}\n`))
    t.deepEqual(contents(json<Report>(third).images[0].reference), {first: original.first, later: 'three'})

    // 4. registry: false: nothing looked up, pulled or passed; the expensive step runs again.
    removeLocal(a.repository, builder)
    await a.config('    registry: false\n')
    await a.change('four')
    const off = await cli(['images', 'build', '--push', '--json', '--workspace', a.dir], a.env({BRANCH_NAME: branchA}), {sample: true})
    t.is(off.code, 0, off.stderr)
    t.is(expensiveStep(off, a, builder), 'ran', off.stderr)
    t.false(off.stderr.includes('] build cache: '), off.stderr)
    t.false(off.stderr.includes('importing cache manifest'), 'BuildKit was given no --cache-from')
    const commands = [...off.cmdlines].filter((c) => /\bdocker\b/.test(c))
    t.false(commands.some((c) => c.includes('--cache-from') || / pull /.test(c) || c.includes(':ci-cache-')), commands.join('\n'))
    const fresh = contents(json<Report>(off).images[0].reference)
    t.not(fresh.first, original.first, 'the step ran: new random bytes')
    t.is((await client().manifest(`${registry!.user}/${a.image}`, cacheTag(branchA))).digest, next.digest, 'A\'s cache tag was not moved')
  })
}

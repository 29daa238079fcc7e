/**
 * A Jenkins abort (SIGTERM) of `images build` and `images push` against the real stack (dockerd's
 * legacy builder, the htpasswd registry on 127.0.0.1): exit 130 and one line saying what finished,
 * the running docker commands stopped (none of this run's left, the build step's container gone),
 * the temporary DOCKER_CONFIG with the registry login deleted; and a second signal, sent once the
 * first one's notice is out, exits at once. Every image and marker name is unique to the test
 * (`h17-…`); nothing is pulled.
 *   eval "$(test/stack/env)" && npx ava --serial test/integration/images-interrupt.test.ts
 */
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync} from 'node:fs'
import {readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import test, {type ExecutionContext} from 'ava'

import {HttpRegistryClient} from '../../src/images/registry.js'
import {prepareApp} from '../fixtures/images/prepare.js'
import {processes, startCli} from '../helpers/cli.js'
import {run, STACK_HINT, waitFor} from '../helpers/stack.js'
import {newCommit, registry, stallingRegistryProxy, userEnv} from './images-helpers.js'
import {tempDir} from '../helpers/tmp.js'

const stackTest = registry ? test.serial : test.serial.skip
if (!registry) test.serial(`the test stack is configured (${STACK_HINT})`, (t) => t.fail('SHOPSYS_CI_TEST_REGISTRY* are not set and test/stack/env found no stack'))

const NOTICE = /^WARNING: SIGTERM received: stopping docker and deleting the temporary DOCKER_CONFIG \(the registry login\) now \(send it again to exit at once\)$/m
const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

interface Setup {
  dir: string
  /** TMPDIR of the CLI: where its temporary DOCKER_CONFIG goes. */
  tmp: string
  php: string
  es: string
  /** In the command line of the slow build step's shell, while it runs in the daemon. */
  marker: string
  commit: string
  env: Record<string, string>
}

/**
 * The fixture app with its images renamed `h17-php-…`/`h17-es-…`; with `slow`, php's ci stage has a
 * step that runs until it is stopped, and says when it started.
 */
async function setup(t: ExecutionContext, {slow, registryHost}: {slow: boolean; registryHost?: string}): Promise<Setup> {
  const app = await prepareApp()
  const tmp = tempDir('shopsys-ci-h17-tmp-')
  t.teardown(() => Promise.all([app.cleanup(), rm(tmp, {recursive: true, force: true})]))
  const nonce = randomBytes(4).toString('hex')
  const s = {dir: app.dir, tmp, php: `h17-php-${nonce}`, es: `h17-es-${nonce}`, marker: `h17-marker-${nonce}`, commit: newCommit()}
  await writeFile(
    path.join(app.dir, '.ci/shopsys-ci.yaml'),
    `project: h17-fixture
images:
  - {name: ${s.php}, context: php-fpm, target: ci, buildArgs: {project_root: /var/www/html}, tag: commit}
  - {name: ${s.es}, context: elasticsearch, tag: commit}
`,
  )
  if (slow) {
    const dockerfile = path.join(app.dir, 'php-fpm/Dockerfile')
    const step = `RUN ["/bin/sh", "-c", "echo slow-step; sleep 3600; echo never", "${s.marker}"]`
    await writeFile(dockerfile, (await readFile(dockerfile, 'utf8')).replace('FROM base AS ci\n', `FROM base AS ci\n${step}\n`))
  }
  const env = userEnv({GIT_COMMIT: s.commit, TMPDIR: tmp, ...(registryHost ? {DOCKER_REGISTRY: registryHost} : {})})
  // This test's tags only (the layers stay, shared with the other tests' images).
  t.teardown(() => run('docker', ['image', 'rm', ...[s.php, s.es].map((name) => `${registryHost ?? registry!.registry}/${registry!.user}/${name}:ci-commit-${s.commit}`)]).then(() => undefined))
  return {...s, env}
}

function reference(s: Setup, name: string, registryHost = registry!.registry): string {
  return `${registryHost}/${registry!.user}/${name}:ci-commit-${s.commit}`
}

/** The temporary DOCKER_CONFIG directories in the CLI's TMPDIR. */
function dockerConfigs(s: Setup): string[] {
  return readdirSync(s.tmp).filter((n) => n.startsWith('shopsys-ci-docker-'))
}

/** docker commands of this run (their arguments carry its unique commit). */
function dockerCommands(s: Setup): string[] {
  return processes()
    .map((p) => p.cmdline)
    .filter((c) => /\bdocker\b/.test(c) && c.includes(s.commit))
}

/** Whether the slow step's shell runs (the daemon's build container, seen from the host). */
function slowStepRuns(s: Setup): boolean {
  return processes().some((p) => p.cmdline.includes(s.marker))
}

async function inRegistry(s: Setup, name: string): Promise<boolean> {
  const client = new HttpRegistryClient({host: registry!.registry}, {credentials: {username: registry!.user, password: registry!.password}})
  return (await client.manifest(`${registry!.user}/${name}`, `ci-commit-${s.commit}`)).exists
}

/**
 * Sends the CLI one SIGTERM and checks the interruption as the user sees it: exit 130, the first
 * notice, and the one error line: `interrupted` (regexp source), what `finished` and what not.
 */
async function sigtermExits130(t: ExecutionContext, cli: ReturnType<typeof startCli>, interrupted: string, finished: string, notFinished: string): Promise<void> {
  cli.kill('SIGTERM')
  t.is(await cli.exited, 130, cli.stderr)
  t.regex(cli.stderr, NOTICE)
  t.regex(
    cli.stderr,
    new RegExp(
      `^Error: ${interrupted}; stopped its docker commands and deleted the temporary DOCKER_CONFIG \\(the registry login\\); ` +
        `finished: ${finished}; not finished: ${notFinished}\n\\(exit 130, INTERRUPTED\\)$`,
      'm',
    ),
  )
}

async function inDaemon(ref: string): Promise<boolean> {
  return (await run('docker', ['image', 'inspect', '--format', '{{.Id}}', ref])).code === 0
}

stackTest('SIGTERM during images build --push: docker stopped, the DOCKER_CONFIG deleted, exit 130 with one line naming what finished', async (t) => {
  const s = await setup(t, {slow: true})
  const cli = startCli(['images', 'build', '--push', '--workspace', s.dir], {env: s.env})
  await cli.waitFor(new RegExp(`^\\[${s.php}\\] slow-step$`, 'm'))
  await cli.waitFor(new RegExp(`^\\[${s.es}\\] pushed `, 'm'))
  t.true(slowStepRuns(s), 'the slow step runs in the daemon')
  t.is(dockerConfigs(s).length, 1, 'logged in: the temporary DOCKER_CONFIG exists')

  await sigtermExits130(t, cli, `images build: interrupted by SIGTERM while building ${s.php}`, `${s.es} \\(built and pushed: ${escape(reference(s, s.es))}\\)`, s.php)
  t.deepEqual(dockerConfigs(s), [], 'the registry login is not left on disk')
  // The CLI waited for its docker children; the daemon stops the build when its client goes.
  t.deepEqual(dockerCommands(s), [])
  await waitFor('the slow build step to be stopped in the daemon', () => !slowStepRuns(s))
  t.false(await inDaemon(reference(s, s.php)), 'php was not built')
  t.false(await inRegistry(s, s.php))
  t.true(await inRegistry(s, s.es))
})

stackTest('SIGTERM during images push: the hung push stopped, the DOCKER_CONFIG deleted, exit 130 naming what was pushed', async (t) => {
  // es's push hangs at its first upload, for as long as the test runs; php's goes through.
  const proxy = await stallingRegistryProxy(t, (request) => request.includes(`/${registry!.user}/h17-es-`) && request.includes('/blobs/uploads/'))
  const s = await setup(t, {slow: false, registryHost: proxy.registry})
  const built = startCli(['images', 'build', '--workspace', s.dir], {env: s.env})
  t.is(await built.exited, 0, built.stderr)

  const cli = startCli(['images', 'push', '--workspace', s.dir], {env: s.env})
  await cli.waitFor(new RegExp(`^\\[${s.php}\\] pushed `, 'm'))
  await cli.waitFor(new RegExp(`^\\[${s.es}\\] pushing `, 'm'))
  await proxy.stalled
  t.is(dockerConfigs(s).length, 1, 'logged in: the temporary DOCKER_CONFIG exists')

  await sigtermExits130(t, cli, `images push: interrupted by SIGTERM while pushing ${s.es}`, `${s.php} \\(pushed: ${escape(reference(s, s.php, proxy.registry))}\\)`, s.es)
  t.deepEqual(dockerConfigs(s), [])
  t.deepEqual(dockerCommands(s), [], 'the hung docker push was stopped')
  t.true(await inRegistry(s, s.php))
  t.false(await inRegistry(s, s.es))
})

stackTest('a second SIGTERM, once the first one\'s notice is out, exits at once (130); the DOCKER_CONFIG was deleted by the first', async (t) => {
  const s = await setup(t, {slow: true})
  const cli = startCli(['images', 'build', '--push', '--workspace', s.dir], {env: s.env})
  await cli.waitFor(new RegExp(`^\\[${s.php}\\] slow-step$`, 'm'))
  t.is(dockerConfigs(s).length, 1)
  // A docker that is slow to stop: php's `docker build` is suspended, so the SIGTERM the CLI sends it
  // stays pending, and the first signal's handling waits for it.
  const dockerBuild = processes().find((p) => p.ppid === cli.pid && p.cmdline.includes(reference(s, s.php)))
  t.truthy(dockerBuild, 'php\'s docker build is a child of the CLI')
  process.kill(dockerBuild!.pid, 'SIGSTOP')
  t.teardown(() => {
    // Resumed, it handles the SIGTERM the CLI sent it.
    if (existsSync(`/proc/${dockerBuild!.pid}`)) process.kill(dockerBuild!.pid, 'SIGCONT')
  })

  cli.kill('SIGTERM')
  await cli.waitFor(NOTICE)
  // Deleted as the first signal is handled (just after its notice), while docker has not ended yet.
  await waitFor('the temporary DOCKER_CONFIG to be deleted', () => dockerConfigs(s).length === 0)
  t.true(existsSync(`/proc/${dockerBuild!.pid}`), 'php\'s docker build has not ended')
  cli.kill('SIGTERM')
  t.is(await cli.exited, 130, cli.stderr)
  t.regex(cli.stderr, /^WARNING: SIGTERM again: exiting at once \(exit 130\), the temporary DOCKER_CONFIG was deleted on the first signal$/m)
  t.notRegex(cli.stderr, /^Error: /m, 'at once: not after the first signal\'s account')
  t.deepEqual(dockerConfigs(s), [])

  process.kill(dockerBuild!.pid, 'SIGCONT')
  await waitFor('the resumed docker build to end', () => !existsSync(`/proc/${dockerBuild!.pid}`))
  await waitFor('the slow build step to be stopped in the daemon', () => !slowStepRuns(s))
})

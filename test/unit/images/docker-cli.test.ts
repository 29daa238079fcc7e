import {spawn} from 'node:child_process'
import {existsSync, readdirSync} from 'node:fs'
import path from 'node:path'

import test from 'ava'

import {ImageBuildError, InterruptedError, RegistryError} from '../../../src/errors.js'
import {BuildxBuildStrategy, detectBuildStrategy, DockerCliImageBuilder, LegacyBuildStrategy} from '../../../src/images/builder.js'
import {DockerCli, userPluginsDir} from '../../../src/images/docker-cli.js'
import {planImages} from '../../../src/images/plan.js'
import {DockerCliImagePusher, parsePushDigest} from '../../../src/images/pusher.js'
import type {RegistryClient} from '../../../src/images/types.js'
import {fakeDocker} from './_fake-docker.js'
import {COMMIT, image} from './_helpers.js'

const PASSWORD = 'Pw-in-stdin-only-91c2'
const FAST = {attempts: 3, baseDelayMs: 5, factor: 2, maxDelayMs: 50}

const plan = (name = 'php-fpm', overrides = {}) =>
  planImages({images: [image(name, {target: 'ci', buildArgs: {project_root: '/app'}, ...overrides})], registry: {host: '127.0.0.1:5000', namespace: 'ci'}, workspace: '/ws', commit: COMMIT})[0]

const LABELS = {'org.opencontainers.image.revision': COMMIT, 'org.opencontainers.image.source': 'https://git.example/shop.git', 'org.opencontainers.image.created': '2026-01-01T00:00:00.000Z'}

test('buildx detection by exit code: legacy builder when `docker buildx version` fails', async (t) => {
  const fake = await fakeDocker({buildx: false})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  const strategy = await detectBuildStrategy(docker)
  t.true(strategy instanceof LegacyBuildStrategy)
  const builder = new DockerCliImageBuilder(docker)
  t.regex(await builder.describe(), /legacy/)
  const lines: string[] = []
  await builder.build(plan(), LABELS, {onLine: (l) => lines.push(l)})
  const calls = fake.calls()
  t.deepEqual(calls.map((c) => c.args.slice(0, 2).join(' ')), ['buildx version', 'build --force-rm'], 'detected once')
  t.deepEqual(calls[1].args, [
    'build',
    '--force-rm',
    '--file', '/ws/php-fpm/Dockerfile',
    '--tag', `127.0.0.1:5000/ci/php-fpm:ci-commit-${COMMIT}`,
    '--target', 'ci',
    '--build-arg', 'project_root=/app',
    '--label', 'org.opencontainers.image.created=2026-01-01T00:00:00.000Z',
    '--label', `org.opencontainers.image.revision=${COMMIT}`,
    '--label', 'org.opencontainers.image.source=https://git.example/shop.git',
    '/ws/php-fpm',
  ])
  t.is(calls[1].env.DOCKER_BUILDKIT, '0')
  t.is(calls[1].env.DOCKER_HOST, 'unix:///fake.sock')
  t.deepEqual(lines, ['Step 1/3 : FROM scratch', `Successfully tagged 127.0.0.1:5000/ci/php-fpm:ci-commit-${COMMIT}`])
})

test('BuildKit through buildx when present, with inline cache', async (t) => {
  const fake = await fakeDocker({buildx: true})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  t.true((await detectBuildStrategy(docker)) instanceof BuildxBuildStrategy)
  const builder = new DockerCliImageBuilder(docker)
  t.regex(await builder.describe(), /BuildKit/)
  await builder.build(plan(), LABELS, {onLine: () => {}})
  const call = fake.calls().at(-1)!
  t.deepEqual(call.args.slice(0, 3), ['buildx', 'build', '--load'])
  t.true(call.args.join(' ').includes('--cache-to type=inline'))
  t.false(call.args.includes('--cache-from'), 'no cache sources unless the build is given some')
  t.is(call.args.at(-1), '/ws/php-fpm')
  t.is(call.env.DOCKER_BUILDKIT, '1')
})

test('cache sources: --cache-from for each, in order, before the context, with both builders', async (t) => {
  const sources = ['127.0.0.1:5000/ci/php-fpm:ci-cache-feature-x', '127.0.0.1:5000/ci/php-fpm:ci-cache-master']
  const expected = ['--cache-from', sources[0], '--cache-from', sources[1]]
  for (const buildx of [true, false]) {
    const fake = await fakeDocker({buildx})
    t.teardown(fake.cleanup)
    const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
    t.teardown(() => docker.dispose())
    const builder = new DockerCliImageBuilder(docker)
    await builder.build(plan(), LABELS, {onLine: () => {}, cacheFrom: sources})
    const args = fake.calls().at(-1)!.args
    const at = args.indexOf('--cache-from')
    t.deepEqual(args.slice(at, at + 4), expected, buildx ? 'buildx' : 'legacy')
    t.is(args.filter((a) => a === '--cache-from').length, 2)
    t.is(args.at(-1), '/ws/php-fpm')
    if (buildx) t.true(args.join(' ').includes('--cache-to type=inline'), 'the inlined cache stays on')
  }
})

test('DOCKER_BUILDKIT=0 chooses the legacy builder even where buildx exists, as for docker build', async (t) => {
  const fake = await fakeDocker({buildx: true})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: {...fake.env, DOCKER_BUILDKIT: '0'}, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  const builder = new DockerCliImageBuilder(docker)
  t.is(await builder.describe(), 'the legacy builder (DOCKER_BUILDKIT=0)')
  await builder.build(plan(), LABELS, {onLine: () => {}})
  t.deepEqual(fake.calls().map((c) => c.args.slice(0, 2).join(' ')), ['build --force-rm'], 'buildx not even asked')
})

test('pull (the legacy builder\'s cache): pulled, missing (the registry has no such tag), or an error naming the reference', async (t) => {
  const ref = '127.0.0.1:5000/ci/php-fpm:ci-cache-master'
  const fake = await fakeDocker({pullMissing: [`${ref}-gone`]})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  t.is(await docker.pull(ref), 'pulled')
  t.is(await docker.pull(`${ref}-gone`), 'missing')
  t.deepEqual(fake.calls().map((c) => c.args), [['pull', '--quiet', ref], ['pull', '--quiet', `${ref}-gone`]])
  await docker.tag('a:1', 'a:2')
  t.deepEqual(fake.calls().at(-1)!.args, ['tag', 'a:1', 'a:2'])

  const refused = await fakeDocker({pullError: 'Error response from daemon: Head "http://127.0.0.1:5000/v2/ci/php-fpm/manifests/ci-cache-master": toomanyrequests: slow down'})
  t.teardown(refused.cleanup)
  const other = new DockerCli({env: refused.env, tempRoot: refused.tempRoot})
  t.teardown(() => other.dispose())
  const error = await t.throwsAsync(other.pull(ref), {instanceOf: RegistryError})
  t.regex(error.message, /^docker pull 127\.0\.0\.1:5000\/ci\/php-fpm:ci-cache-master failed: .*toomanyrequests: slow down$/)
})

test('build.network goes to both builders as --network, before the context', (t) => {
  const legacy = new LegacyBuildStrategy({network: 'host'}).args(plan(), {})
  const buildkit = new BuildxBuildStrategy({network: 'none'}).args(plan(), {})
  t.deepEqual(legacy.slice(legacy.indexOf('--network'), legacy.indexOf('--network') + 2), ['--network', 'host'])
  t.deepEqual(buildkit.slice(buildkit.indexOf('--network'), buildkit.indexOf('--network') + 2), ['--network', 'none'])
  t.is(legacy.at(-1), '/ws/php-fpm')
  t.is(buildkit.at(-1), '/ws/php-fpm')
  t.false(new LegacyBuildStrategy().args(plan(), {}).includes('--network'), 'docker\'s default without it')
})

test('the user\'s plugin folder, as docker finds it: $DOCKER_CONFIG/cli-plugins, else ~/.docker/cli-plugins', (t) => {
  t.is(userPluginsDir({DOCKER_CONFIG: '/etc/docker-ci', HOME: '/home/j'}), '/etc/docker-ci/cli-plugins')
  t.is(userPluginsDir({HOME: '/home/j'}), '/home/j/.docker/cli-plugins')
  t.is(userPluginsDir({DOCKER_CONFIG: '', HOME: '/home/j'}), '/home/j/.docker/cli-plugins')
})

test('a failed build: exit 4 with the image and the last lines of its output', async (t) => {
  const fake = await fakeDocker({buildFail: ['php-fpm']})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  const builder = new DockerCliImageBuilder(docker, new LegacyBuildStrategy())
  const error = await t.throwsAsync(builder.build(plan(), LABELS, {onLine: () => {}}), {instanceOf: ImageBuildError})
  t.is(error.exitCode, 4)
  // What failed; the image's name is the summary's to say (build-images.test.ts), once.
  t.is(error.message, `build of ${plan().reference} failed (docker exited with 1)`)
  t.regex(error.details!, /Step 2\/3 : RUN false\n.*returned a non-zero code: 1/)
})

test('login: password on stdin only, in a 0700 temporary DOCKER_CONFIG used by every call, removed afterwards', async (t) => {
  const fake = await fakeDocker({password: PASSWORD})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: {...fake.env, DOCKER_PASSWORD: PASSWORD, DOCKER_CONFIG: '/home/someone/.docker'}, tempRoot: fake.tempRoot, secrets: [PASSWORD]})
  await docker.login('127.0.0.1:5000', 'ci', PASSWORD)
  await new DockerCliImageBuilder(docker, new LegacyBuildStrategy()).build(plan(), LABELS, {onLine: () => {}})
  const configDir = docker.dockerConfig
  t.true(configDir.startsWith(path.join(fake.tempRoot, 'shopsys-ci-docker-')))
  const calls = fake.calls()
  t.deepEqual(calls[0].args, ['login', '--username', 'ci', '--password-stdin', '127.0.0.1:5000'])
  t.is(calls[0].stdin, PASSWORD)
  for (const call of calls) {
    t.is(call.env.DOCKER_CONFIG, configDir, 'the temporary DOCKER_CONFIG, never the user\'s')
    t.is(call.env.DOCKER_PASSWORD, undefined, 'DOCKER_PASSWORD is not passed on to docker')
    t.is(call.configMode, '700')
    t.false(call.args.join(' ').includes(PASSWORD))
  }
  await docker.dispose()
  t.false(existsSync(configDir))
  t.deepEqual(readdirSync(fake.tempRoot), [])
  await docker.dispose() // idempotent
})

test('login to Docker Hub names no registry', async (t) => {
  const fake = await fakeDocker({password: PASSWORD})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  await docker.login(undefined, 'ci', PASSWORD)
  t.deepEqual(fake.calls()[0].args, ['login', '--username', 'ci', '--password-stdin'])
})

test('login refused: exit 5, not retried; unreachable: retried, then exit 5', async (t) => {
  const fake = await fakeDocker({password: 'other'})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot, secrets: [PASSWORD]})
  t.teardown(() => docker.dispose())
  const refused = await t.throwsAsync(docker.login('r', 'ci', PASSWORD, FAST), {instanceOf: RegistryError})
  t.regex(refused.message, /refused for user "ci"/)
  t.is(fake.calls().length, 1)

  const down = await fakeDocker({loginDown: true})
  t.teardown(down.cleanup)
  const docker2 = new DockerCli({env: down.env, tempRoot: down.tempRoot})
  t.teardown(() => docker2.dispose())
  const retries: string[] = []
  const error = await t.throwsAsync(docker2.login('127.0.0.1:1', 'ci', PASSWORD, FAST, (m) => retries.push(m)), {instanceOf: RegistryError})
  t.regex(error.message, /connection refused.*3 attempts/)
  t.is(down.calls().length, 3)
  t.is(retries.length, 2)
})

const X509 = 'Error response from daemon: Get "https://r.test:5000/v2/": tls: failed to verify certificate: x509: certificate signed by unknown authority'

test('login: a registry certificate docker does not trust is exit 5 at once, not retried, with where docker looks for the CA', async (t) => {
  const fake = await fakeDocker({loginError: X509})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  const retries: string[] = []
  const error = await t.throwsAsync(docker.login('r.test:5000', 'ci', PASSWORD, FAST, (m) => retries.push(m)), {instanceOf: RegistryError})
  t.regex(error.message, /docker login to r\.test:5000 failed on TLS: .*x509: certificate signed by unknown authority/)
  t.true(error.suggestions.some((s) => s.includes('/etc/docker/certs.d/r.test:5000/ca.crt')))
  t.is(fake.calls().length, 1)
  t.deepEqual(retries, [])
})

test('push: a TLS failure is exit 5 at once, not retried', async (t) => {
  const fake = await fakeDocker({pushError: X509})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  const retries: string[] = []
  const error = await t.throwsAsync(new DockerCliImagePusher(docker, {retry: FAST, onRetry: (_p, m) => retries.push(m)}).push(plan(), {onLine: () => {}}), {instanceOf: RegistryError})
  t.regex(error.message, /push of 127\.0\.0\.1:5000\/ci\/php-fpm:\S+ failed on TLS: .*x509/)
  t.true(error.suggestions.some((s) => s.includes('/etc/docker/certs.d/127.0.0.1:5000/ca.crt')))
  t.is(fake.calls().length, 1)
  t.deepEqual(retries, [])
})

test('push: transient failures are retried, the digest is parsed from the output', async (t) => {
  const fake = await fakeDocker({pushTransientFailures: 2})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  const retries: string[] = []
  const pusher = new DockerCliImagePusher(docker, {retry: FAST, onRetry: (_p, m) => retries.push(m)})
  const {digest} = await pusher.push(plan(), {onLine: () => {}})
  t.is(digest, `sha256:${'f'.repeat(64)}`)
  t.is(fake.calls().length, 3)
  t.is(retries.length, 2)
  t.regex(retries[0], /connection refused; attempt 2 of 3 in 5 ms/)
})

test('push: an authentication failure is not retried (exit 5)', async (t) => {
  const fake = await fakeDocker({pushAuthFail: true})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  const error = await t.throwsAsync(new DockerCliImagePusher(docker, {retry: FAST}).push(plan(), {onLine: () => {}}), {instanceOf: RegistryError})
  t.is(error.exitCode, 5)
  t.regex(error.message, /refused the push/)
  t.is(fake.calls().length, 1)
})

test('push: always failing → gives up after 3 attempts (exit 5)', async (t) => {
  const fake = await fakeDocker({pushTransientFailures: 99})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  const error = await t.throwsAsync(new DockerCliImagePusher(docker, {retry: FAST}).push(plan(), {onLine: () => {}}), {instanceOf: RegistryError})
  t.regex(error.message, /gave up after 3 attempts/)
  t.is(fake.calls().length, 3)
})

test('push: without a digest line, the digest comes from the registry', async (t) => {
  const fake = await fakeDocker({noDigest: true})
  t.teardown(fake.cleanup)
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot})
  t.teardown(() => docker.dispose())
  const registry: RegistryClient = {displayName: 'fake', manifest: async () => ({exists: true, digest: `sha256:${'1'.repeat(64)}`})}
  const {digest} = await new DockerCliImagePusher(docker, {retry: FAST, registry}).push(plan(), {onLine: () => {}})
  t.is(digest, `sha256:${'1'.repeat(64)}`)
})

test('parsePushDigest', (t) => {
  t.is(parsePushDigest(`x\nci-commit-1: digest: sha256:${'a'.repeat(64)} size: 1150\n`), `sha256:${'a'.repeat(64)}`)
  t.is(parsePushDigest('nothing here'), undefined)
})

test('output lines are redacted', async (t) => {
  const docker = new DockerCli({env: {}, secrets: ['s3cr3t', '']})
  t.is(docker.redact('a s3cr3t b s3cr3t'), 'a *** b ***')
})

test('SIGTERM during a run removes the temporary DOCKER_CONFIG, then the process ends by the signal', async (t) => {
  const fake = await fakeDocker({})
  t.teardown(fake.cleanup)
  const script = `
    import {DockerCli} from ${JSON.stringify(path.resolve('src/images/docker-cli.ts'))}
    const docker = new DockerCli({env: JSON.parse(process.env.ENV_JSON), tempRoot: process.env.TEMP_ROOT})
    console.log(docker.dockerConfig)
    await docker.run(['sleep'])
  `
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    env: {...process.env, ENV_JSON: JSON.stringify(fake.env), TEMP_ROOT: fake.tempRoot},
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const configDir = await new Promise<string>((resolve) => child.stdout.once('data', (b: Buffer) => resolve(b.toString().trim())))
  t.true(existsSync(configDir))
  // Wait until the docker child runs, then interrupt.
  for (let i = 0; i < 100 && !fake.calls().some((c) => c.args[0] === 'sleep'); i++) await new Promise((r) => setTimeout(r, 50))
  child.kill('SIGTERM')
  const [code, signal] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])))
  t.is(signal, 'SIGTERM')
  t.is(code, null)
  t.false(existsSync(configDir))
})

// Serial: it counts the process's signal listeners, which the other tests' instances add to.
test.serial('the caller\'s signal (the command\'s first SIGINT/SIGTERM) stops docker and removes the temporary DOCKER_CONFIG at once; SIGINT/SIGTERM are left to the caller', async (t) => {
  const fake = await fakeDocker({})
  t.teardown(fake.cleanup)
  const controller = new AbortController()
  const count = () => ({SIGINT: process.listenerCount('SIGINT'), SIGTERM: process.listenerCount('SIGTERM'), SIGHUP: process.listenerCount('SIGHUP'), exit: process.listenerCount('exit')})
  const before = count()
  const docker = new DockerCli({env: fake.env, tempRoot: fake.tempRoot, signal: controller.signal})
  t.teardown(() => docker.dispose())
  const configDir = docker.dockerConfig
  // SIGHUP is nobody else's: still handled here; the exit handler is the safety net for a second signal's process.exit.
  t.deepEqual(count(), {...before, SIGHUP: before.SIGHUP + 1, exit: before.exit + 1})
  const running = docker.run(['sleep'])
  for (let i = 0; i < 100 && !fake.calls().some((c) => c.args[0] === 'sleep'); i++) await new Promise((r) => setTimeout(r, 50))
  const reason = new InterruptedError('interrupted by SIGTERM', {signal: 'SIGTERM'})
  controller.abort(reason)
  // Gone as the signal aborts, not once docker has ended.
  t.false(existsSync(configDir))
  t.is((await running).signal, 'SIGTERM', 'the docker child was stopped')
  t.deepEqual(count(), before)
  // No new docker command, and so no new DOCKER_CONFIG.
  t.is(await t.throwsAsync(docker.run(['version'])), reason)
  t.deepEqual(readdirSync(fake.tempRoot), [])
  t.true(docker.usedDockerConfig)
})

/**
 * The images stage against the real stack: Debian's dockerd (legacy builder, no network for RUN)
 * and docker-registry on 127.0.0.1 with htpasswd auth. Nothing is pulled; the fixture apps build
 * FROM scratch with a static busybox. The CLI runner and the stack's variables: images-helpers.ts.
 */
import {spawnSync} from 'node:child_process'
import {randomBytes} from 'node:crypto'
import {existsSync, readdirSync} from 'node:fs'
import {readdir, readFile, rm, writeFile} from 'node:fs/promises'
import path from 'node:path'

import test from 'ava'

import {loadConfig} from '../../src/config/load.js'
import {buildImages} from '../../src/images/index.js'
import {HttpRegistryClient} from '../../src/images/registry.js'
import {MemoryLogger} from '../../src/util/log.js'
import {prepareApp} from '../fixtures/images/prepare.js'
import {STACK_HINT} from '../helpers/stack.js'
import {cli, filesContaining, json, newCommit, registry, type Report, userEnv} from './images-helpers.js'
import {tempDir} from '../helpers/tmp.js'

const stackTest = registry ? test.serial : test.serial.skip
if (!registry) test.serial(`the test stack is configured (${STACK_HINT})`, (t) => t.fail('SHOPSYS_CI_TEST_REGISTRY* are not set and test/stack/env found no stack'))

stackTest('first run builds and pushes both images; a second run of the same commit reuses both and builds nothing', async (t) => {
  const app = await prepareApp()
  t.teardown(app.cleanup)
  const env = userEnv({GIT_COMMIT: newCommit()})

  const first = await cli(['images', 'build', '--push', '--json', '--workspace', app.dir], env)
  t.is(first.code, 0, first.stderr)
  const cold = json<Report>(first)
  t.deepEqual(cold.images.map((i) => [i.name, i.status]), [['php-fpm', 'built'], ['elasticsearch', 'built']])
  for (const image of cold.images) {
    t.is(image.reference, `${registry!.registry}/${registry!.user}/${image.name}:ci-commit-${env.GIT_COMMIT}`)
    t.regex(image.digest ?? '', /^sha256:[0-9a-f]{64}$/)
  }
  // Output lines are prefixed with the image name; the legacy builder was detected.
  t.regex(first.stderr, /^\[php-fpm\] Step 1\/\d+ : FROM scratch/m)
  t.regex(first.stderr, /^\[elasticsearch\] Step 1\/\d+ : FROM scratch/m)
  t.regex(first.stderr, /building with the legacy builder/)

  // The registry has them, with the digests reported.
  const client = new HttpRegistryClient({host: registry!.registry}, {credentials: {username: registry!.user, password: registry!.password}})
  for (const image of cold.images) {
    t.deepEqual(await client.manifest(`${registry!.user}/${image.name}`, image.tag), {exists: true, digest: image.digest})
  }

  const second = await cli(['images', 'build', '--push', '--json', '--workspace', app.dir], env)
  t.is(second.code, 0, second.stderr)
  const warm = json<Report>(second)
  t.deepEqual(warm.images.map((i) => [i.name, i.status, i.digest]), cold.images.map((i) => [i.name, 'reused', i.digest]))
  t.notRegex(second.stderr, /Step \d|building with|Login Succeeded|The push refers/)
})

stackTest('content tags: changing a file of one context changes only that image\'s tag, and only that image is rebuilt', async (t) => {
  const app = await prepareApp()
  t.teardown(app.cleanup)
  // A nonce in both contexts: this run's content is new to the registry.
  const nonce = randomBytes(8).toString('hex')
  await writeFile(path.join(app.dir, 'php-fpm/app/src/nonce.txt'), nonce)
  await writeFile(path.join(app.dir, 'elasticsearch/config/nonce.txt'), nonce)
  const env = userEnv({FIXTURE_TAG_POLICY: 'content'})
  const {config} = loadConfig({workspace: app.dir, env})
  const run = async (commit: string) => {
    const logger = new MemoryLogger()
    const results = await buildImages({config, workspace: app.dir, env, commit, logger, push: true})
    const built = ['php-fpm', 'elasticsearch'].filter((n) => logger.lines.some((l) => l.startsWith(`[${n}] Step 1/`)))
    return {results, built}
  }

  const one = await run(newCommit())
  t.deepEqual(one.results.map((r) => r.status), ['built', 'built'])
  for (const r of one.results) t.regex(r.tag, /^ci-content-[0-9a-f]{40}$/)

  // Another commit, same content: both reused (the commit is not part of a content tag).
  const same = await run(newCommit())
  t.deepEqual(same.results.map((r) => [r.status, r.tag]), one.results.map((r) => ['reused', r.tag]))
  t.deepEqual(same.built, [])

  // Ignored files do not count (.dockerignore of php-fpm: **/*.log).
  await writeFile(path.join(app.dir, 'php-fpm/app/src/debug.log'), 'noise')
  t.deepEqual((await run(newCommit())).results.map((r) => r.status), ['reused', 'reused'])

  await writeFile(path.join(app.dir, 'php-fpm/app/src/index.php'), `<?php echo "changed ${nonce}";\n`)
  const two = await run(newCommit())
  t.not(two.results[0].tag, one.results[0].tag, 'php-fpm has a new tag')
  t.is(two.results[1].tag, one.results[1].tag, 'elasticsearch keeps its tag')
  t.deepEqual(two.results.map((r) => r.status), ['built', 'reused'])
  t.deepEqual(two.built, ['php-fpm'])
})

stackTest('a wrong password: exit 5, naming the registry and what to check', async (t) => {
  const app = await prepareApp()
  t.teardown(app.cleanup)
  const wrong = `wrong-${randomBytes(6).toString('hex')}`
  const result = await cli(['images', 'build', '--push', '--workspace', app.dir], userEnv({GIT_COMMIT: newCommit(), DOCKER_PASSWORD: wrong}))
  t.is(result.code, 5, result.stderr)
  t.regex(result.stderr, new RegExp(`${registry!.registry.replace(/\./g, '\\.')}: authentication refused for user "${registry!.user}"`))
  t.regex(result.stderr, /DOCKER_PASSWORD/)
  t.notRegex(result.stderr, /Step \d/)
  t.false((result.stdout + result.stderr).includes(wrong))
})

stackTest('an unreachable registry: retried, then exit 5', async (t) => {
  const app = await prepareApp()
  t.teardown(app.cleanup)
  const {unusedPort} = await import('../unit/images/_server.js')
  const port = await unusedPort()
  const result = await cli(['images', 'build', '--push', '--workspace', app.dir], userEnv({GIT_COMMIT: newCommit(), DOCKER_REGISTRY: `127.0.0.1:${port}`}))
  t.is(result.code, 5, result.stderr)
  t.regex(result.stderr, /attempt 2 of 3/)
  t.regex(result.stderr, /attempt 3 of 3/)
  t.regex(result.stderr, new RegExp(`registry 127\\.0\\.0\\.1:${port} is unreachable`))
  t.regex(result.stderr, /DOCKER_REGISTRY/)
  t.notRegex(result.stderr, /Step \d/)
})

stackTest('a broken Dockerfile: exit 4, the image named with the last lines of its build, and what finished; no stopped container left behind', async (t) => {
  const app = await prepareApp()
  t.teardown(app.cleanup)
  const dockerfile = path.join(app.dir, 'php-fpm/Dockerfile')
  // A marker unique to this run, to find the failed step's container among the daemon's.
  const marker = `broken-step-${randomBytes(6).toString('hex')}`
  await writeFile(dockerfile, (await readFile(dockerfile, 'utf8')).replace('FROM base AS ci\n', `FROM base AS ci\nRUN ["/bin/sh", "-c", "echo broken-step-output >&2; echo ${marker}; exit 3"]\n`))
  const result = await cli(['images', 'build', '--push', '--workspace', app.dir], userEnv({GIT_COMMIT: newCommit()}))
  t.is(result.code, 4, result.stderr)
  t.regex(result.stderr, /Error: image "php-fpm" failed: build of \S+\/php-fpm:ci-commit-[0-9a-f]{40} failed \(docker exited with \d+\)\n/)
  t.regex(result.stderr, /broken-step-output/)
  t.regex(result.stderr, /returned a non-zero code: 3/)
  t.regex(result.stderr, /finished: elasticsearch \(built and pushed/)
  t.regex(result.stderr, /not finished: php-fpm \(build failed/)
  t.regex(result.stderr, /\(exit 4, IMAGE_BUILD\)/)
  // The legacy builder colours a step's stderr with escape codes, which a Jenkins log shows as "[91m".
  t.false(result.stderr.includes('\u001b['), 'no terminal escape codes')
  // The legacy builder keeps the container of a failed step (with its file system) unless told not to.
  const containers = spawnSync('docker', ['ps', '--all', '--no-trunc', '--format', '{{.ID}} {{.Command}}'], {encoding: 'utf8'})
  t.is(containers.status, 0, containers.stderr)
  t.deepEqual(containers.stdout.split('\n').filter((l) => l.includes(marker)), [])
})

stackTest('a missing Dockerfile: exit 2 before anything is built', async (t) => {
  const app = await prepareApp()
  t.teardown(app.cleanup)
  await rm(path.join(app.dir, 'elasticsearch/Dockerfile'))
  const result = await cli(['images', 'build', '--push', '--workspace', app.dir], userEnv({GIT_COMMIT: newCommit()}))
  t.is(result.code, 2, result.stderr)
  t.regex(result.stderr, /images\[1\]\.dockerfile: image "elasticsearch": Dockerfile .* does not exist/)
  t.notRegex(result.stdout + result.stderr, /Step \d/)
})

stackTest('security: the password is in no output, no process argument list, no file left behind, not in the report', async (t) => {
  const app = await prepareApp()
  const tmp = tempDir('shopsys-ci-images-tmp-')
  const home = tempDir('shopsys-ci-images-home-')
  t.teardown(() => Promise.all([app.cleanup(), rm(tmp, {recursive: true, force: true}), rm(home, {recursive: true, force: true})]))
  const password = registry!.password
  t.true(password.length >= 16, 'the stack generates a unique password per stack')

  // --force-build: login, build and push all happen, with a fresh commit.
  const env = userEnv({GIT_COMMIT: newCommit(), TMPDIR: tmp, HOME: home})
  const result = await cli(['images', 'build', '--push', '--force-build', '--json', '--workspace', app.dir], env, {sample: true})
  t.is(result.code, 0, result.stderr)
  const report = json<Report>(result)
  t.deepEqual(report.images.map((i) => i.status), ['built', 'built'])

  t.false(result.stdout.includes(password), 'stdout')
  t.false(result.stderr.includes(password), 'stderr')
  t.false(JSON.stringify(report).includes(password), 'JSON report')
  const withDocker = [...result.cmdlines].filter((c) => /\bdocker\b.*\b(login|build|push)\b/.test(c))
  t.true(withDocker.length > 0, "docker processes were seen by the sampler")
  t.deepEqual([...result.cmdlines].filter((c) => c.includes(password)), [], 'process argument lists')
  t.deepEqual(await filesContaining(app.dir, password), [], 'workspace files')
  t.deepEqual((await readdir(tmp)).filter((n) => n.startsWith('shopsys-ci-')), [], 'the temporary DOCKER_CONFIG is removed')
  t.deepEqual(await filesContaining(tmp, password), [], 'temporary files')
  t.false(existsSync(path.join(home, '.docker')), "the user's ~/.docker is never touched")
})

stackTest('SIGTERM during a build removes the temporary DOCKER_CONFIG', async (t) => {
  const app = await prepareApp()
  const tmp = tempDir('shopsys-ci-images-tmp-')
  t.teardown(() => Promise.all([app.cleanup(), rm(tmp, {recursive: true, force: true})]))
  // A slow build step so there is time to interrupt.
  const dockerfile = path.join(app.dir, 'php-fpm/Dockerfile')
  await writeFile(dockerfile, (await readFile(dockerfile, 'utf8')).replace('FROM base AS ci\n', 'FROM base AS ci\nRUN ["/bin/sh", "-c", "echo slow-step; sleep 20"]\n'))
  let killed = false
  let sawConfig = false
  const result = await cli(['images', 'build', '--push', '--workspace', app.dir], userEnv({GIT_COMMIT: newCommit(), TMPDIR: tmp}), {
    onStdout: (text, kill) => {
      if (!killed && text.includes('slow-step')) {
        sawConfig = readdirSync(tmp).some((n) => n.startsWith('shopsys-ci-docker-'))
        killed = true
        kill()
      }
    },
  })
  t.true(killed, result.stderr)
  t.true(sawConfig, 'the temporary DOCKER_CONFIG existed during the build')
  t.not(result.code, 0)
  t.deepEqual(readdirSync(tmp).filter((n) => n.startsWith('shopsys-ci-docker-')), [])
})

test.serial('the real daemon names its default registry, which the Docker Hub lookups use as their endpoint', async (t) => {
  const {DockerCli} = await import('../../src/images/docker-cli.js')
  const docker = new DockerCli({env: {...process.env}})
  t.teardown(() => docker.dispose())
  const index = await docker.defaultIndex()
  t.regex(index, /^https:\/\/[^/]+\//)
  const {registryApiBase} = await import('../../src/images/reference.js')
  t.is(registryApiBase({}, index), new URL(index).origin)
})

import test from 'ava'

import {ToolError} from '../../../src/errors.js'
import {DockerCli} from '../../../src/images/docker-cli.js'
import {fakeDocker} from './_fake-docker.js'

const REF = '127.0.0.1:5000/ci/php-fpm:ci-commit-0123'

async function docker(t: {teardown: (fn: () => unknown) => void}, mode: Record<string, unknown>) {
  const fake = await fakeDocker(mode)
  t.teardown(fake.cleanup)
  const cli = new DockerCli({env: fake.env, tempRoot: fake.tempRoot, secrets: ['s3cret']})
  t.teardown(() => cli.dispose())
  return {fake, cli}
}

test('imageId: the local image ID from docker image inspect, in the temporary DOCKER_CONFIG', async (t) => {
  const {fake, cli} = await docker(t, {localImages: [REF]})
  t.is(await cli.imageId(REF), `sha256:${'a'.repeat(64)}`)
  const [call] = fake.calls()
  t.deepEqual(call.args, ['image', 'inspect', '--format', '{{.Id}}', REF])
  t.regex(call.env.DOCKER_CONFIG ?? '', /shopsys-ci-docker-/)
})

test('imageId: undefined when the daemon has no such image', async (t) => {
  const {cli} = await docker(t, {localImages: []})
  t.is(await cli.imageId(REF), undefined)
})

test('imageId: an unreachable daemon or another failure is exit 3 with the output', async (t) => {
  const down = await docker(t, {daemonDown: true})
  const error = await t.throwsAsync(down.cli.imageId(REF), {instanceOf: ToolError})
  t.is(error.message, 'cannot talk to the Docker daemon')
  t.is(error.exitCode, 3)

  const broken = await docker(t, {inspectError: 'permission denied while trying to connect (s3cret)'})
  const other = await t.throwsAsync(broken.cli.imageId(REF), {instanceOf: ToolError})
  t.is(other.message, `cannot ask the Docker daemon about the local image ${REF} (docker image inspect exited with 1)`)
  t.is(other.details, 'permission denied while trying to connect (***)')
})

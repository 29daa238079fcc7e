import test from 'ava'

import {copyExample, runCli} from '../../helpers/cli.js'

test('build without DEVELOPMENT_SERVER_DOMAIN names every missing variable at once, as its check stage does, exit 3', async (t) => {
  const ws = await copyExample()
  const result = await runCli(['build', '--workspace', ws], {env: {BRANCH_NAME: 'feature/x', GIT_COMMIT: 'abcdef0', DOCKER_PASSWORD: 'hunter2-secret'}})
  t.is(result.exitCode, 3, result.stderr)
  for (const name of ['DEVELOPMENT_SERVER_DOMAIN', 'DOCKER_USERNAME']) t.regex(result.stderr, new RegExp(`- ${name}: is not set`), name)
  t.false((result.stdout + result.stderr).includes('hunter2-secret'))
})

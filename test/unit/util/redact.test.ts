import {Writable} from 'node:stream'

import test from 'ava'

import {stackTrace} from '../../../src/base-command.js'
import {StreamLogger} from '../../../src/util/log.js'
import {redactDeep, redactor} from '../../../src/util/redact.js'
import {copyExample, runCli} from '../../helpers/cli.js'

test('redactor: every occurrence, the longest secret first, nothing to do without secrets', (t) => {
  const redact = redactor(['pass', 'passphrase-1', ''])
  t.is(redact('a passphrase-1 and a pass'), 'a *** and a ***')
  t.is(redactor([])('pass stays'), 'pass stays')
  t.deepEqual(redactDeep({a: ['pass', 2], b: {c: 'x pass'}}, redact), {a: ['***', 2], b: {c: 'x ***'}})
})

test('StreamLogger: every line it writes, to either stream, is redacted', async (t) => {
  let out = ''
  let err = ''
  const sink = (append: (s: string) => void) => new Writable({write: (chunk: Buffer, _enc, done) => (append(chunk.toString()), done())})
  const logger = new StreamLogger({out: sink((s) => (out += s)), err: sink((s) => (err += s)), verbose: true, redact: redactor(['s3cret'])})
  logger.info('info s3cret')
  logger.line('php-fpm', 'line s3cret')
  logger.warn('warn s3cret')
  logger.debug('debug s3cret')
  await logger.stage('stage-s3cret', async () => {})
  t.false((out + err).includes('s3cret'))
  t.regex(out, /^info \*\*\*$/m)
  t.regex(out, /^\[php-fpm\] line \*\*\*$/m)
  t.regex(out, /^==> stage-\*\*\*$/m)
  t.regex(err, /^WARNING: warn \*\*\*$/m)
})

test('stackTrace: the stack and its causes, not the error\'s other properties', (t) => {
  const cause = Object.assign(new Error('socket hang up'), {request: {headers: {authorization: 'Bearer token-abc'}}})
  const trace = stackTrace(new Error('apply failed', {cause}))
  t.regex(trace, /^Error: apply failed\n/)
  t.regex(trace, /\ncaused by: Error: socket hang up\n/)
  t.false(trace.includes('token-abc'))
})

test('a secret quoted by an error, in the message, with --json and in DEBUG output, is printed as ***', async (t) => {
  const ws = await copyExample()
  const {readFile, writeFile} = await import('node:fs/promises')
  const file = `${ws}/.ci/shopsys-ci.yaml`
  // A host the names refuse is quoted in the message, and its template too: here they hold the password.
  await writeFile(file, (await readFile(file, 'utf8')).replace('    first: "{{slug}}.{{domain}}"', '    first: "${DOCKER_PASSWORD}.{{slug}}.{{domain}}"'))
  const env = {DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', DOCKER_USERNAME: 'shop', DOCKER_PASSWORD: 'quoted_pw_4711', BRANCH_NAME: 'x', GIT_COMMIT: 'abcdef0', DEBUG: 'shopsys-ci*'}
  for (const json of [false, true]) {
    const result = await runCli(['names', '--workspace', ws, ...(json ? ['--json'] : [])], {env})
    t.is(result.exitCode, 2, result.stderr)
    t.regex(result.stdout + result.stderr, /names\.hosts\.first: host "\*\*\*\.x\.ci\.example\.com" \(from "\*\*\*\.\{\{slug\}\}\.\{\{domain\}\}"\)/)
    t.regex(result.stderr, /shopsys-ci:command .*Error: names\.hosts\.first/, 'the DEBUG stack trace is there')
    t.false((result.stdout + result.stderr).includes('quoted_pw_4711'), json ? '--json' : 'text')
  }
})

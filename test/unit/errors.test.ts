import test from 'ava'

import * as errors from '../../src/errors.js'
import {EXIT_CODE_TABLE, ExitCode, StageError} from '../../src/errors.js'
import {runCli} from '../helpers/cli.js'

test('every typed error exits with a code of the one published table', (t) => {
  const published = new Set(EXIT_CODE_TABLE.map(([code]) => code))
  t.deepEqual([...published], Object.values(ExitCode))
  type ErrorClass = (new (m: string) => errors.CiError) & {name: string}
  const classes = (Object.values(errors) as unknown[]).filter((v): v is ErrorClass => typeof v === 'function' && v.prototype instanceof errors.CiError && v !== StageError)
  t.true(classes.length >= 10)
  for (const ErrorClass of classes) {
    const error = (ErrorClass as unknown) === errors.ConfigError ? new errors.ConfigError([{file: 'f', message: 'm'}]) : (ErrorClass as unknown) === errors.EnvironmentError ? new errors.EnvironmentError([]) : new ErrorClass('m')
    t.true(published.has(error.exitCode), ErrorClass.name)
  }
})

test('a stage error keeps the exit code, suggestions and details of its cause', (t) => {
  const wrapped = new StageError('deploy', new errors.DeployError('web: CrashLoopBackOff', {suggestions: ['look at the logs'], details: 'events'}))
  t.is(wrapped.exitCode, 6)
  t.is(wrapped.message, 'deploy: web: CrashLoopBackOff')
  t.deepEqual(wrapped.suggestions, ['look at the logs'])
  t.is(wrapped.details, 'events')
  t.is(new StageError('x', new Error('boom')).exitCode, 1)
})

test('--help of a command and of the CLI publishes the exit-code table', async (t) => {
  for (const args of [['names', '--help'], ['--help']]) {
    const result = await runCli(args)
    t.is(result.exitCode, 0)
    t.regex(result.stdout, /EXIT CODES\n {4}0 {2}ok\n[\s\S]* {4}9 {2}timed out waiting for the branch lock or a capacity slot\n {2}130 {2}interrupted by SIGINT or SIGTERM/)
  }
})

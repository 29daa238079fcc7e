import test from 'ava'
import {spawn} from 'node:child_process'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {pipeline} from 'node:stream/promises'

import {exitCodeOf} from '../../../src/kube/exec.js'
import {artifactCommand, containerFor, exitCodeHint, missingContainer, PID_LINE, phaseCommand, pickPod, podsSummary, reportingPid, stopCommand} from '../../../src/kube/phase.js'
import {TarExtractor} from '../../../src/kube/tar.js'
import {tempDir} from '../../helpers/tmp.js'

test('phase command: plain, with env, with a working directory', (t) => {
  t.deepEqual(phaseCommand({command: ['./phing', 'tests'], env: {}}), ['./phing', 'tests'])
  t.deepEqual(phaseCommand({command: ['./phing', 'tests'], env: {APP_ENV: 'test', X: 'a b'}}), ['env', 'APP_ENV=test', 'X=a b', './phing', 'tests'])
  t.deepEqual(phaseCommand({command: ['php', '-v'], env: {A: '1'}, workingDir: '/var/www/html'}), ['sh', '-c', 'cd "$0" && exec "$@"', '/var/www/html', 'env', 'A=1', 'php', '-v'])
})

function runLocal(argv: string[], cwd: string): Promise<{code: number; stdout: Buffer; stderr: string}> {
  return new Promise((resolve) => {
    const child = spawn(argv[0], argv.slice(1), {cwd})
    const out: Buffer[] = []
    let err = ''
    child.stdout.on('data', (b: Buffer) => out.push(b))
    child.stderr.on('data', (b: Buffer) => (err += b.toString()))
    child.on('close', (code) => resolve({code: code ?? -1, stdout: Buffer.concat(out), stderr: err}))
  })
}

test('the phase command runs in its directory with its environment (real sh)', async (t) => {
  const dir = tempDir('shopsys-ci-phase-')
  const result = await runLocal(phaseCommand({command: ['sh', '-c', 'echo "$PWD $GREETING"'], env: {GREETING: 'hello world'}, workingDir: dir}), '/')
  t.is(result.stdout.toString().trim(), `${dir} hello world`)
})

test('an interrupted phase can end its command: it reports its PID first, keeps its exit code, and stopCommand ends it (real sh)', async (t) => {
  const dir = tempDir('shopsys-ci-phase-')
  const passed = await runLocal(reportingPid(phaseCommand({command: ['sh', '-c', 'echo out; exit 3'], env: {}, workingDir: dir})), '/')
  t.is(passed.code, 3)
  t.is(passed.stdout.toString(), 'out\n')
  t.regex(passed.stderr.split('\n')[0], PID_LINE)

  const child = spawn(reportingPid(['sleep', '600'])[0], reportingPid(['sleep', '600']).slice(1))
  const pid = await new Promise<string>((resolve) => child.stderr.on('data', (b: Buffer) => resolve(PID_LINE.exec(b.toString().trim())![1])))
  t.is(pid, String(child.pid), 'the command keeps the PID the shell reported')
  const ended = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)))
  const stop = await runLocal(stopCommand(pid), '/')
  t.is(stop.code, 0)
  t.is(await ended, 'SIGTERM')
})

test('the artifact command tars what exists, reports what does not (real sh and tar)', async (t) => {
  const dir = tempDir('shopsys-ci-artifacts-')
  mkdirSync(path.join(dir, 'var/logs'), {recursive: true})
  mkdirSync(path.join(dir, 'var/screenshots'), {recursive: true})
  writeFileSync(path.join(dir, 'var/logs/junit.xml'), '<testsuites/>')
  writeFileSync(path.join(dir, 'var/screenshots/a.png'), 'png-a')
  writeFileSync(path.join(dir, 'var/screenshots/b.png'), 'png-b')
  const result = await runLocal(artifactCommand(['var/logs/junit.xml', 'var/screenshots/*.png', 'var/missing.xml', 'nothing/*.txt'], dir), '/')
  t.is(result.code, 0)
  t.regex(result.stderr, /no artifact matches var\/missing.xml/)
  t.regex(result.stderr, /no artifact matches nothing\/\*.txt/)
  const dest = tempDir('shopsys-ci-artifacts-dest-')
  const extractor = new TarExtractor(dest)
  const {Readable} = await import('node:stream')
  await pipeline(Readable.from([result.stdout]), extractor)
  t.deepEqual(extractor.entries.map((e) => e.path).sort(), ['var/logs/junit.xml', 'var/screenshots/a.png', 'var/screenshots/b.png'])
  t.is(readFileSync(path.join(dest, 'var/screenshots/b.png'), 'utf8'), 'png-b')
})

test('the artifact command with nothing to copy writes nothing and succeeds', async (t) => {
  const dir = tempDir('shopsys-ci-artifacts-')
  const result = await runLocal(artifactCommand(['none.xml'], dir), '/')
  t.is(result.code, 0)
  t.is(result.stdout.length, 0)
})

const pod = (name: string, created: string, ready: boolean, extra: Record<string, unknown> = {}) => ({
  metadata: {name, creationTimestamp: created, ...extra},
  spec: {containers: [{name: 'php-fpm'}, {name: 'nginx'}]},
  status: {phase: 'Running', conditions: [{type: 'Ready', status: ready ? 'True' : 'False'}]},
})

test('pickPod: Ready, not terminating, has the container, newest first', (t) => {
  const pods = [
    pod('old', '2026-01-01T00:00:00Z', true),
    pod('new', '2026-01-01T00:05:00Z', true),
    pod('newest-unready', '2026-01-01T00:09:00Z', false),
    pod('terminating', '2026-01-01T00:08:00Z', true, {deletionTimestamp: '2026-01-01T00:10:00Z'}),
  ]
  t.is(pickPod(pods)?.metadata?.name, 'new')
  t.is(pickPod(pods, 'php-fpm')?.metadata?.name, 'new')
  t.is(pickPod(pods, 'selenium'), undefined)
  t.is(pickPod([pod('x', '2026-01-01T00:00:00Z', false)]), undefined)
})

test('missingContainer: a container no Ready pod has is named with the containers there are', (t) => {
  const ready = {...pod('web-1', '2026-01-01T00:00:00Z', true), spec: {initContainers: [{name: 'migrate'}], containers: [{name: 'php-fpm'}, {name: 'nginx'}]}}
  t.is(missingContainer([ready], 'php'), 'pod web-1 has no container php; its containers: php-fpm, nginx (init containers, which cannot run a phase: migrate)')
  t.is(missingContainer([ready], 'nginx'), undefined)
  t.is(missingContainer([ready]), undefined, 'no container configured: the default one is used')
  // Not Ready yet: nothing to compare with, so the wait goes on.
  t.is(missingContainer([pod('starting', '2026-01-01T00:00:00Z', false)], 'php'), undefined)
})

test('podsSummary: what the pods were doing when none became Ready', (t) => {
  t.is(podsSummary([]), 'it has no pods')
  const crashing = {
    metadata: {name: 'web-2'},
    status: {phase: 'Running', conditions: [{type: 'Ready', status: 'False'}], containerStatuses: [{name: 'app', state: {waiting: {reason: 'CrashLoopBackOff'}}}]},
  }
  const pending = {metadata: {name: 'web-3'}, status: {phase: 'Pending', conditions: [{type: 'PodScheduled', status: 'False', reason: 'Unschedulable'}]}}
  t.is(podsSummary([pod('web-1', '2026-01-01T00:00:00Z', false), crashing, pending]), 'its pods: web-1: Running (Ready=False), web-2: Running (app: CrashLoopBackOff), web-3: Pending (Unschedulable)')
})

test('containerFor: configured, annotated default, first', (t) => {
  const p = pod('p', '2026-01-01T00:00:00Z', true)
  t.is(containerFor(p, 'nginx'), 'nginx')
  t.is(containerFor(p), 'php-fpm')
  t.is(containerFor({...p, metadata: {...p.metadata, annotations: {'kubectl.kubernetes.io/default-container': 'nginx'}}}), 'nginx')
})

test('exit codes from the exec status', (t) => {
  t.deepEqual(exitCodeOf({status: 'Success'}), {exitCode: 0})
  t.deepEqual(exitCodeOf({status: 'Failure', reason: 'NonZeroExitCode', details: {causes: [{reason: 'ExitCode', message: '3'}]}}), {exitCode: 3})
  t.like(exitCodeOf({status: 'Failure', reason: 'InternalError', message: 'executable file not found'}), {exitCode: -1, message: 'executable file not found'})
  t.like(exitCodeOf(undefined), {exitCode: -1})
})

test('exit codes that are not the tests\' own get a hint; the tests\' own do not', (t) => {
  t.regex(exitCodeHint(127)!, /not found in the container/)
  t.regex(exitCodeHint(126)!, /not executable/)
  t.regex(exitCodeHint(137)!, /SIGKILL.*memory limit.*OOMKilled/)
  t.regex(exitCodeHint(143)!, /SIGTERM/)
  t.is(exitCodeHint(139), 'exit code 139: killed by signal 11')
  for (const code of [1, 2, 3, 125, 128, 255]) t.is(exitCodeHint(code), undefined, String(code))
})

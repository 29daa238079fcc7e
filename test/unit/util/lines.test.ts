import test from 'ava'

import {LineSplitter} from '../../../src/util/lines.js'
import {run} from '../../../src/util/process.js'
import {LineWriter} from '../../../src/kube/exec.js'

test('lines are emitted as they complete; CRLF is trimmed; the unterminated rest comes at the end', (t) => {
  const lines: string[] = []
  const s = new LineSplitter((l) => lines.push(l))
  s.push(Buffer.from('one\r\ntw'))
  t.deepEqual(lines, ['one'])
  s.push(Buffer.from('o\n\nthree'))
  t.deepEqual(lines, ['one', 'two', ''])
  s.end()
  t.deepEqual(lines, ['one', 'two', '', 'three'])
})

test('a UTF-8 character whose bytes arrive in two chunks stays whole', (t) => {
  const bytes = Buffer.from('ok - košík je prázdný: Über\n', 'utf8')
  const split = bytes.indexOf(Buffer.from('š')) + 1 // between the two bytes of "š"
  const lines: string[] = []
  const s = new LineSplitter((l) => lines.push(l))
  const text = s.push(bytes.subarray(0, split)) + s.push(bytes.subarray(split)) + s.end()
  t.deepEqual(lines, ['ok - košík je prázdný: Über'])
  t.is(text, bytes.toString('utf8'))
})

test('run(): a real child writing one byte at a time keeps its characters, in onLine and in stdout', async (t) => {
  const script = "for b in 0x6b 0xc5 0xa1 0x0a; do printf \"$(printf '\\\\%03o' $b)\"; sleep 0.02; done"
  const lines: string[] = []
  const result = await run('sh', ['-c', script], {onLine: (l) => lines.push(l)})
  t.is(result.exitCode, 0, result.stderr)
  t.deepEqual(lines, ['kš'])
  t.is(result.stdout, 'kš\n')
})

test('the exec LineWriter (pod output) uses the same splitting', async (t) => {
  const lines: string[] = []
  const w = new LineWriter((l) => lines.push(l))
  const bytes = Buffer.from('Über alles\nlast', 'utf8')
  await new Promise<void>((resolve) => w.write(bytes.subarray(0, 1), () => resolve()))
  await new Promise<void>((resolve) => w.end(bytes.subarray(1), () => resolve()))
  t.deepEqual(lines, ['Über alles', 'last'])
})

/**
 * Temporary directories for tests, removed when the test process exits (ava runs each test file in
 * a process of its own), so that a run leaves nothing behind in the system's temporary directory.
 */
import {mkdtempSync, rmSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

const made: string[] = []

process.once('exit', () => {
  for (const dir of made) rmSync(dir, {recursive: true, force: true, maxRetries: 2})
})

/** A new directory `<tmp>/<prefix>XXXXXX`. */
export function tempDir(prefix: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix))
  made.push(dir)
  return dir
}

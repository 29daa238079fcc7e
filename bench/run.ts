/**
 * `npm run bench`: every benchmark, one after the other, each reporting ratios measured side by side
 * in its own run. Builds the CLI and brings the test stack up first.
 */
import {execFileSync, spawnSync} from 'node:child_process'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const run = (cmd: string, args: string[], env = process.env) => spawnSync(cmd, args, {cwd: ROOT, env, stdio: 'inherit'}).status ?? 1

if (run('npm', ['run', '--silent', 'build']) !== 0) process.exit(1)
if (run('test/stack/up', []) !== 0) process.exit(1)
const exports = execFileSync(path.join(ROOT, 'test/stack/env'), {encoding: 'utf8'})
const env = {...process.env}
for (const m of exports.matchAll(/^export ([A-Z_]+)=(.*)$/gm)) env[m[1]] = m[2].replace(/^'(.*)'$/, '$1')

let failed = 0
for (const bench of ['startup.ts', 'images.ts', 'deploy.ts', 'build.ts']) {
  console.log(`\n### bench/${bench}`)
  failed += run(process.execPath, ['--import', 'tsx', '--no-warnings', path.join('bench', bench)], env) === 0 ? 0 : 1
}
process.exit(failed ? 1 : 0)

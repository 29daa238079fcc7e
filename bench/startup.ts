/**
 * Start-up cost of commands that talk to neither Kubernetes nor Docker, as ratios to `node -e 0`
 * measured side by side (interleaved) in this run. Uses the compiled CLI (`npm run build` first).
 * Target: `names --json` ≤ 3× `node -e 0`.
 *
 *   npm run build && node --import tsx bench/startup.ts [--runs 15]
 */
import {spawnSync} from 'node:child_process'
import {cpSync, existsSync, mkdtempSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const runsIndex = process.argv.indexOf('--runs')
const RUNS = runsIndex === -1 ? 15 : Number(process.argv[runsIndex + 1])

if (!existsSync(path.join(ROOT, 'dist/cli.cjs'))) {
  console.error('bench/startup: run `npm run build` first (it measures the compiled CLI)')
  process.exit(2)
}

const workspace = mkdtempSync(path.join(tmpdir(), 'shopsys-ci-bench-'))
cpSync(path.join(ROOT, 'examples/shopsys-app'), workspace, {recursive: true})
const env = {...process.env, BRANCH_NAME: 'feature/bench', DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', GIT_COMMIT: 'a'.repeat(40), DOCKER_USERNAME: 'bench', DOCKER_REGISTRY: '127.0.0.1:5000'}

const node = (...args: string[]) => [process.execPath, ...args]
// The target is measured as `node bin/run.js`, like `node -e 0`; the package's command
// (bin/shopsys-ci) also leaves NODE_EXTRA_CA_CERTS out of Node's start (docs/architecture.md).
const cases: Record<string, string[]> = {
  'node -e 0': node('-e', '0'),
  'names --json': node(path.join(ROOT, 'bin/run.js'), 'names', '--json', '--branch', 'feature/bench'),
  render: node(path.join(ROOT, 'bin/run.js'), 'render', '--workspace', workspace),
  'names --json via bin/shopsys-ci': [path.join(ROOT, 'bin/shopsys-ci'), 'names', '--json', '--branch', 'feature/bench'],
}

const samples: Record<string, number[]> = Object.fromEntries(Object.keys(cases).map((k) => [k, []]))
for (let i = 0; i < RUNS; i++) {
  for (const [name, [command, ...args]] of Object.entries(cases)) {
    const started = performance.now()
    const result = spawnSync(command, args, {cwd: workspace, env, stdio: 'pipe'})
    if (result.status !== 0) {
      console.error(`${name} failed:\n${result.stderr}`)
      process.exit(1)
    }
    samples[name].push(performance.now() - started)
  }
}

const median = (values: number[]) => {
  const s = [...values].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}
const base = median(samples['node -e 0'])
console.log(`start-up (median of ${RUNS}, interleaved)`)
for (const name of Object.keys(cases)) {
  const m = median(samples[name])
  const target = name === 'names --json' ? '  (target <= 3.0)' : ''
  console.log(`  ${name.padEnd(32)} ${m.toFixed(0).padStart(6)} ms  ${(m / base).toFixed(2)}x node -e 0${target}`)
}

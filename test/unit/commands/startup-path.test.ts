/**
 * Commands that talk to neither Kubernetes nor Docker must not load their clients: start-up time
 * matters in every Jenkins step (bench/startup.ts measures it). Static imports load when a command
 * starts; `import type` and dynamic `import()` do not. This walks the static import graph from each
 * light command and checks what it reaches.
 */
import {readFileSync} from 'node:fs'
import path from 'node:path'

import test from 'ava'

import {REPO_ROOT} from '../../helpers/cli.js'

const STATIC_IMPORT = /^import\s+(?!type\b)(?:[\s\S]*?\s+from\s+)?['"]([^'"]+)['"]/gm

/** Every module (our files as paths under src/, packages by name) reachable through static imports. */
function reachable(entry: string): Set<string> {
  const seen = new Set<string>()
  const visit = (file: string) => {
    if (seen.has(file)) return
    seen.add(file)
    const source = readFileSync(path.join(REPO_ROOT, file), 'utf8')
    for (const [, specifier] of source.matchAll(STATIC_IMPORT)) {
      if (specifier.startsWith('.')) visit(path.posix.join(path.posix.dirname(file), specifier).replace(/\.js$/, '.ts'))
      else seen.add(specifier)
    }
  }
  visit(entry)
  return seen
}

const CLIENTS = [/^@kubernetes\/client-node/, /^simple-git/, /^src\/kube\//, /^src\/images\/(docker-cli|registry|builder|pusher)/]

// render needs Handlebars for its templates; the others do not even load that.
const cases: Array<[string, RegExp[]]> = [
  ['names', [...CLIENTS, /^handlebars/]],
  ['init', [...CLIENTS, /^handlebars/]],
  ['env/check', [...CLIENTS, /^handlebars/]],
  ['render', CLIENTS],
]

for (const [command, heavyModules] of cases) {
  test(`${command} loads none of ${heavyModules.length === CLIENTS.length ? 'the Kubernetes, git or Docker clients' : 'the clients, nor Handlebars'} at start-up`, (t) => {
    const modules = reachable(`src/commands/${command}.ts`)
    t.true(modules.has('src/base-command.ts') && modules.has('@oclif/core'), 'the walk follows imports')
    for (const heavy of heavyModules) t.deepEqual([...modules].filter((m) => heavy.test(m)), [], `${command} reaches ${heavy}`)
  })
}

// Every other command loads its engine inside run(): even its --help stays light.
const ALL_COMMANDS = ['build', 'cleanup', 'deploy', 'gc', 'list', 'run', 'status', 'logs/export', 'images/build', 'images/push']
for (const command of ALL_COMMANDS) {
  test(`${command} loads no Kubernetes, git or Docker client before it runs`, (t) => {
    const modules = [...reachable(`src/commands/${command}.ts`)]
    t.true(modules.includes('src/base-command.ts'), 'the walk follows imports')
    for (const heavy of [/^@kubernetes\/client-node/, /^simple-git/, /^src\/images\/(docker-cli|registry|builder|pusher)/]) {
      t.deepEqual(modules.filter((m) => heavy.test(m)), [], `${command} reaches ${heavy}`)
    }
  })
}

test('the walk does find a heavy import where there is one', (t) => {
  t.true(reachable('src/templates/render.ts').has('handlebars'))
  t.true(reachable('src/commands/render.ts').has('src/templates/render.ts'))
})

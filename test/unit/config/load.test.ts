import test from 'ava'

import {defaultConfig, parseConfig} from '../../../src/config/load.js'
import {ConfigError} from '../../../src/errors.js'
import {computeNames} from '../../../src/names/index.js'
import {NAMESPACE_PREFIX_MAX} from '../../../src/names/names.js'

const FILE = '/repo/.ci/shopsys-ci.yaml'

function problems(text: string, env: Record<string, string> = {}) {
  try {
    parseConfig(text, FILE, env)
  } catch (e) {
    if (e instanceof ConfigError) return e.problems
    throw e
  }
  return []
}

test('a minimal config gets every default', (t) => {
  const config = parseConfig('project: shop\n', FILE, {})
  t.is(config.project, 'shop')
  t.is(config.deploy.timeout, 10 * 60_000)
  t.false(config.deploy.keep)
  t.is(config.deploy.ttl, 24 * 3_600_000)
  t.is(config.capacity.maxEnvironments, 0)
  t.is(config.build.parallel, 2)
  t.is(config.build.network, undefined, 'docker\'s own default network for RUN steps')
  t.is(config.output, '.shopsys-ci')
  t.deepEqual(Object.keys(config.names.hosts), ['first', 'second', 'adminer', 'elasticsearch', 'redis-admin'])
  t.is(config.kustomize, undefined)
})

test('a section whose keys are all commented out is empty: its defaults apply', (t) => {
  const minimal = parseConfig('project: shop\n', FILE, {})
  const config = parseConfig('project: shop\ndeploy:\n  # keep: true\ncapacity:\nimages:\ntemplates:\nvalues:\n', FILE, {})
  t.deepEqual(config.deploy, minimal.deploy)
  t.deepEqual(config.capacity, minimal.capacity)
  t.deepEqual(config.images, [])
  t.deepEqual(config.templates, [])
  t.deepEqual(config.values, minimal.values)
  // A value that is not a section is still checked.
  t.regex(problems('project: shop\ndeploy:\n  timeout:\n').map((p) => `${p.key}: ${p.message}`).join('\n'), /deploy\.timeout: expected .*, got null/)
})

test('malformed YAML is reported with file and line', (t) => {
  const [p] = problems('project: shop\nimages:\n  - name: [unclosed\n')
  t.is(p.file, FILE)
  t.truthy(p.line)
  t.regex(p.message, /YAML syntax/)
})

test('an unknown key is reported with its line, its path and a suggestion', (t) => {
  const found = problems('project: shop\ndeploy:\n  timout: 5m\n')
  t.is(found.length, 1)
  t.is(found[0].line, 3)
  t.is(found[0].key, 'deploy.timout')
  t.regex(found[0].message, /did you mean "timeout"/)
})

test('a wrong type names the key, the line and what was expected', (t) => {
  const [p] = problems('project: shop\ncapacity:\n  maxEnvironments: lots\n')
  t.is(p.key, 'capacity.maxEnvironments')
  t.is(p.line, 3)
  t.regex(p.message, /expected a whole number, got string "lots"/)
})

test('YAML anchors, aliases and merge keys work like anywhere else; a problem in shared text points at where it is written', (t) => {
  const config = parseConfig(
    [
      'project: shop',
      'phases:',
      '  - &checks',
      '    name: checks',
      '    target: deployment/php',
      '    command: [./phing, checks]',
      '    env: &env {APP_ENV: test}',
      '  - <<: *checks',
      '    name: tests',
      '  - {name: lint, target: deployment/php, command: lint, env: *env}',
      'deploy:',
      '  namespaceLabels: {<<: [{a: "1"}, {a: "2", b: "2"}], b: "3"}',
      'values: {base: &v {x: 1}, copy: *v}',
      '',
    ].join('\n'),
    FILE,
    {},
  )
  t.deepEqual(config.phases.map((p) => [p.name, p.target, p.command.join(' '), p.env]), [
    ['checks', 'deployment/php', './phing checks', {APP_ENV: 'test'}],
    ['tests', 'deployment/php', './phing checks', {APP_ENV: 'test'}],
    ['lint', 'deployment/php', 'sh -c lint', {APP_ENV: 'test'}],
  ])
  t.deepEqual(config.deploy.namespaceLabels, {a: '1', b: '3'}, 'own keys win, then earlier merged mappings')
  t.deepEqual(config.values, {base: {x: 1}, copy: {x: 1}})

  const merged = problems('project: shop\nphases:\n  - &p {name: a, target: deployment/x, command: ls, timeout: soon}\n  - {<<: *p, name: b}\n')
  t.deepEqual(merged.map((p) => [p.key, p.line]), [['phases[0].timeout', 3], ['phases[1].timeout', 3]])
  const [unknown] = problems('project: shop\ndeploy: *nope\n')
  t.is(unknown.line, 2)
  t.regex(unknown.message, /\*nope refers to no anchor/)
})

test('build.network: a Docker network name, not an option or a shell word', (t) => {
  t.is(parseConfig('project: shop\nbuild:\n  network: host\n', FILE, {}).build.network, 'host')
  const [p] = problems('project: shop\nbuild:\n  network: "--privileged"\n')
  t.is(p.key, 'build.network')
  t.regex(p.message, /host, none, default or the name of a Docker network/)
})

test('build.cache: off by default; registry and fallbackBranches; typos and misuse reported with their line', (t) => {
  t.deepEqual(parseConfig('project: shop\n', FILE, {}).build.cache, {registry: false, fallbackBranches: []})
  t.deepEqual(parseConfig('project: shop\nbuild:\n  cache:\n', FILE, {}).build.cache, {registry: false, fallbackBranches: []}, 'an empty section: the defaults')
  t.deepEqual(parseConfig('project: shop\nbuild:\n  cache:\n    registry: true\n    fallbackBranches: [master, release/1.2]\n', FILE, {}).build.cache, {registry: true, fallbackBranches: ['master', 'release/1.2']})
  t.deepEqual(parseConfig('project: shop\nbuild:\n  cache:\n    registry: ${CACHE:-false}\n', FILE, {CACHE: 'true'}).build.cache.registry, true)

  const [typo] = problems('project: shop\nbuild:\n  cache:\n    registy: true\n')
  t.is(typo.key, 'build.cache.registy')
  t.is(typo.line, 4)
  t.regex(typo.message, /unknown key \(did you mean "registry"\?\); known keys here: registry, fallbackBranches/)
  const [section] = problems('project: shop\nbuild:\n  cash:\n    registry: true\n')
  t.regex(section.message, /did you mean "cache"/)

  const found = problems('project: shop\nbuild:\n  cache:\n    registry: yes please\n    fallbackBranches: master\n')
  t.deepEqual(found.map((p) => p.key), ['build.cache.registry', 'build.cache.fallbackBranches'])
  t.regex(found[0].message, /expected true or false/)
  t.regex(found[1].message, /expected a list/)
  const [head] = problems('project: shop\nbuild:\n  cache:\n    registry: true\n    fallbackBranches: [HEAD]\n')
  t.is(head.key, 'build.cache.fallbackBranches[0]')
  const [unused] = problems('project: shop\nbuild:\n  cache:\n    fallbackBranches: [master]\n')
  t.is(unused.key, 'build.cache.fallbackBranches')
  t.is(unused.line, 4)
  t.regex(unused.message, /only used with build\.cache\.registry: true/)
})

test('a missing required key is reported', (t) => {
  const found = problems('images:\n  - context: .\n')
  const keys = found.map((p) => p.message)
  t.true(keys.some((m) => m.includes('required key "project"')))
  t.true(keys.some((m) => m.includes('required key "images[0].name"')))
})

test('every problem is reported at once', (t) => {
  const found = problems('project: Shop!\ndeploy:\n  timeout: soon\n  kep: true\nphases:\n  - name: x\n')
  t.true(found.length >= 4, JSON.stringify(found))
  t.deepEqual(new Set(found.map((p) => p.key)), new Set(['project', 'deploy.timeout', 'deploy.kep', 'phases[0]']))
})

test('the cross-checks report together with the schema problems, not only after they are fixed', (t) => {
  const text = [
    'project: shop',
    'deploy: {timeout: soon}',
    'images:',
    '  - {name: php, context: ., tag: template}',
    '  - {name: php, context: ., dependsOn: [nodejs]}',
    '  - {name: web, context: [a, b], tag: template}',
    'phases:',
    '  - {name: checks, target: deployment/web, command: make}',
    'build: {phases: [tests]}',
    '',
  ].join('\n')
  const found = problems(text).map((p) => `${p.key}: ${p.message}`)
  t.true(found.some((p) => p.startsWith('deploy.timeout: expected a duration')), found.join('\n'))
  t.true(found.some((p) => p === 'images[0].tagTemplate: required when tag is "template"'), found.join('\n'))
  t.true(found.some((p) => p.startsWith('images[1].dependsOn: no image named "nodejs"')), found.join('\n'))
  t.true(found.some((p) => p.startsWith('build.phases')), found.join('\n'))
  // images[2] was refused by the schema (context is a list): nothing more is said about it.
  t.true(found.some((p) => p.startsWith('images[2].context')), found.join('\n'))
  t.false(found.some((p) => p.startsWith('images[2].tagTemplate')), found.join('\n'))
})

test('a section the schema refused whole does not stop the cross-checks of the others', (t) => {
  const found = problems('project: shop\ndeploy: soon\nphases:\n  - {name: a, target: deployment/web, command: x}\n  - {name: a, target: deployment/web, command: y}\n').map((p) => `${p.key}: ${p.message}`)
  t.true(found.some((p) => p.startsWith('deploy: expected a mapping')), found.join('\n'))
  t.true(found.some((p) => p === 'phases: phase "a" is declared twice'), found.join('\n'))
})

test('an empty file asks for project', (t) => {
  const [p] = problems('')
  t.regex(p.message, /empty/)
})

test('environment variables are substituted, with defaults, and an unset one is an error', (t) => {
  const config = parseConfig('project: ${PROJECT}\ndeploy:\n  timeout: ${TIMEOUT:-3m}\nvalues:\n  literal: "$${NOT_A_VAR}"\n', FILE, {PROJECT: 'shop'})
  t.is(config.project, 'shop')
  t.is(config.deploy.timeout, 3 * 60_000)
  t.deepEqual(config.values, {literal: '$${NOT_A_VAR}'}, 'values: are free-form and not interpolated')
  const [p] = problems('project: ${MISSING_PROJECT}\n')
  t.is(p.key, 'project')
  t.regex(p.message, /MISSING_PROJECT is not set/)
})

test('images are normalized: placeholder and dockerfile default from name and context', (t) => {
  const config = parseConfig('project: shop\nimages:\n  - name: php-fpm\n    context: docker/php\n', FILE, {})
  t.like(config.images[0], {name: 'php-fpm', placeholder: 'php-fpm', dockerfile: 'docker/php/Dockerfile', tag: 'commit', buildArgs: {}, dependsOn: []})
})

test('a phase command string runs through sh -c; a list runs as is', (t) => {
  const config = parseConfig('project: shop\nphases:\n  - {name: a, target: deployment/x, command: "make test"}\n  - {name: b, target: app=x, command: [./phing, checks]}\n', FILE, {})
  t.deepEqual(config.phases[0].command, ['sh', '-c', 'make test'])
  t.deepEqual(config.phases[1].command, ['./phing', 'checks'])
  t.is(config.phases[0].timeout, 30 * 60_000)
})

test('cross-field checks: duplicates, unknown phases, dependsOn cycles, tag templates', (t) => {
  const found = problems(`project: shop
images:
  - {name: a, dependsOn: [b]}
  - {name: b, dependsOn: [a]}
  - {name: e}
  - {name: e}
  - {name: c, tag: template}
  - {name: d, dependsOn: [nope]}
phases:
  - {name: p, target: deployment/x, command: [x]}
build:
  phases: [p, q]
`)
  const messages = found.map((p) => `${p.key}: ${p.message}`)
  t.true(messages.some((m) => /image "e" is declared twice/.test(m)), messages.join('\n'))
  t.true(messages.some((m) => /cycle: a -> b -> a/.test(m)), messages.join('\n'))
  t.true(messages.some((m) => /images\[4\].tagTemplate: required/.test(m)), messages.join('\n'))
  t.true(messages.some((m) => /no image named "nope"/.test(m)), messages.join('\n'))
  t.true(messages.some((m) => /build.phases: no phase named "q"/.test(m)), messages.join('\n'))
  t.true(found.every((p) => p.line !== undefined), 'cross-field problems carry a line too')
})

test('patches accept a path or {path, target}', (t) => {
  const config = parseConfig('project: shop\nkustomize:\n  base: k8s\n  patches:\n    - a.yaml\n    - {path: b.yaml, target: {kind: Ingress}}\n', FILE, {})
  t.deepEqual(config.kustomize!.patches, [{path: 'a.yaml'}, {path: 'b.yaml', target: {kind: 'Ingress'}}])
  t.is(config.kustomize!.binary, 'kubectl')
})

test('the defaults without a file take the project from SHOPSYS_CI_PROJECT or the directory', (t) => {
  t.is(defaultConfig('/work/My Shop', {}).project, 'my-shop')
  t.is(defaultConfig('/work/x', {SHOPSYS_CI_PROJECT: 'demo'}).project, 'demo')
})

test('the error message lists every problem as file:line: key: message', (t) => {
  const error = t.throws(() => parseConfig('project: shop\ndeploy:\n  keep: maybe\n', FILE, {}), {instanceOf: ConfigError})
  t.regex(error!.message, /\/repo\/\.ci\/shopsys-ci\.yaml:3:\d+: deploy\.keep: expected true or false/)
  t.is(error!.exitCode, 2)
})

test('the defaults without a file are complete', (t) => {
  const config = defaultConfig('/work/shop', {})
  t.is(config.names.scheme, 'http')
  t.is(Object.keys(config.names.hosts).length, 5)
  t.is(config.deploy.timeout, 10 * 60_000)
  t.deepEqual(config.images, [])
})

test('names.namespacePrefix: the config accepts exactly what the names module can use (one limit)', (t) => {
  const prefix = (n: number) => `${'p'.repeat(n - 1)}-`
  t.deepEqual(problems(`project: shop\nnames:\n  namespacePrefix: ${prefix(NAMESPACE_PREFIX_MAX)}\n`), [])
  const [p] = problems(`project: shop\nnames:\n  namespacePrefix: ${prefix(NAMESPACE_PREFIX_MAX + 1)}\n`)
  t.is(p.key, 'names.namespacePrefix')
  t.regex(p.message, new RegExp(`at most ${NAMESPACE_PREFIX_MAX} characters`))
  // and the longest accepted prefix still leaves room for a long branch's slug
  const longPrefix = prefix(NAMESPACE_PREFIX_MAX)
  const names = computeNames({branch: 'feature/a-very-long-branch-name-that-must-be-cut-to-fit-somewhere', project: 'shop', domain: 'ci.example.com', scheme: 'http', hosts: {first: '{{slug}}.{{domain}}'}, namespacePrefix: longPrefix})
  t.true(names.namespace.length <= 63)
  t.true(names.namespace.startsWith(longPrefix) && names.slug.length >= 8, names.namespace)
})

test('deploy.namespaceLabels and namespaceAnnotations: valid keys and values; the tool\'s own keys are refused', (t) => {
  const config = parseConfig('project: shop\ndeploy:\n  namespaceLabels: {pod-security.kubernetes.io/enforce: baseline, team: checkout}\n  namespaceAnnotations: {example.com/owner: "Team Checkout <checkout@example.com>"}\n', FILE, {})
  t.deepEqual(config.deploy.namespaceLabels, {'pod-security.kubernetes.io/enforce': 'baseline', team: 'checkout'})
  t.deepEqual(config.deploy.namespaceAnnotations, {'example.com/owner': 'Team Checkout <checkout@example.com>'})
  t.deepEqual(parseConfig('project: shop\n', FILE, {}).deploy.namespaceLabels, {})
  const own = t.throws(() => parseConfig('project: shop\ndeploy:\n  namespaceLabels: {app.kubernetes.io/managed-by: me}\n  namespaceAnnotations: {shopsys-ci/owner: me}\n', FILE, {}), {instanceOf: ConfigError})
  t.regex(own.message, /deploy\.namespaceLabels\.app\.kubernetes\.io\/managed-by: is set by shopsys-ci itself/)
  t.regex(own.message, /deploy\.namespaceAnnotations\.shopsys-ci\/owner: is set by shopsys-ci itself/)
  const malformed = t.throws(() => parseConfig('project: shop\ndeploy:\n  namespaceLabels: {"bad key!": x, ok: "not a label value"}\n', FILE, {}), {instanceOf: ConfigError})
  t.regex(malformed.message, /deploy\.namespaceLabels\.bad key!: invalid name: a label key/)
  t.regex(malformed.message, /deploy\.namespaceLabels\.ok: "not a label value" is not valid/)
})

test('deploy.secrets: Secret name -> key -> variable; malformed names, the pull secret\'s name and a Secret without keys are refused with their lines', (t) => {
  const config = parseConfig('project: shop\ndeploy:\n  secrets:\n    app-secrets:\n      DATABASE_PASSWORD: APP_DB_PASSWORD\n      api.key: APP_API_KEY\n', FILE, {})
  t.deepEqual(config.deploy.secrets, {'app-secrets': {DATABASE_PASSWORD: 'APP_DB_PASSWORD', 'api.key': 'APP_API_KEY'}})
  t.deepEqual(parseConfig('project: shop\n', FILE, {}).deploy.secrets, {})
  const malformed = problems('project: shop\ndeploy:\n  secrets:\n    App_Secrets: {KEY: VAR}\n    ok:\n      "bad key!": VAR\n      good: "not a variable"\n')
  t.deepEqual(
    malformed.map((p) => [p.line, p.key]),
    [
      [4, 'deploy.secrets.App_Secrets'],
      [6, 'deploy.secrets.ok.bad key!'],
      [7, 'deploy.secrets.ok.good'],
    ],
  )
  t.regex(malformed[0]!.message, /a Secret name/)
  t.regex(malformed[2]!.message, /the name of an environment variable/)
  const own = problems('project: shop\ndeploy:\n  secrets:\n    shopsys-ci-registry: {KEY: VAR}\n    empty: {}\n')
  t.deepEqual(own.map((p) => [p.line, p.key]), [
    [4, 'deploy.secrets.shopsys-ci-registry'],
    [5, 'deploy.secrets.empty'],
  ])
  t.regex(own[0]!.message, /the name of the image pull secret shopsys-ci makes/)
  t.regex(own[1]!.message, /has no keys/)
  const tools = problems('project: shop\ndeploy:\n  secrets:\n    app: {REGISTRY: DOCKER_PASSWORD, DOMAIN: DEVELOPMENT_SERVER_DOMAIN, OK: APP_OK}\n')
  t.deepEqual(tools.map((p) => [p.line, p.key]), [
    [4, 'deploy.secrets.app.REGISTRY'],
    [4, 'deploy.secrets.app.DOMAIN'],
  ])
  t.regex(tools[0]!.message, /DOCKER_PASSWORD is a variable of shopsys-ci itself/)
})

import {readFile, writeFile} from 'node:fs/promises'
import path from 'node:path'

import test from 'ava'
import {parseAllDocuments, parse} from 'yaml'

import {ManifestError} from '../../../src/errors.js'
import {checkManifests, unrenderedPlaceholders} from '../../../src/manifests/kustomize.js'
import {generateOverlay} from '../../../src/manifests/overlay.js'
import {copyExample, runCli} from '../../helpers/cli.js'
import {tempDir} from '../../helpers/tmp.js'

const ENV = {BRANCH_NAME: 'feature/JIRA-1_Über', DEVELOPMENT_SERVER_DOMAIN: 'ci.example.com', NGINX_INGRESS_CONTROLLER_HOST_PORT: '8000', GIT_COMMIT: 'a'.repeat(40), DOCKER_USERNAME: 'shopsys', DOCKER_REGISTRY: '127.0.0.1:5000'}

test('the overlay sets namespace, labels, images (digest-pinned when known), generators and patches', (t) => {
  const files = generateOverlay({
    overlayDir: '/ws/.shopsys-ci/overlay',
    baseDir: '/ws/kubernetes/overlays/ci',
    namespace: 'shop-main',
    labels: {'app.kubernetes.io/managed-by': 'shopsys-ci'},
    images: [
      {placeholder: 'shop/php', repository: 'r/u/php', tag: 'ci-commit-1'},
      {placeholder: 'shop/es', repository: 'r/u/es', tag: 't', digest: 'sha256:abc'},
    ],
    patches: [{file: '0-ingress.yaml', content: '- op: replace\n', target: {kind: 'Ingress'}}],
    configMaps: [{name: 'domains', behavior: 'create', files: [{key: 'd.yaml', content: 'x: 1\n'}]}],
  })
  const k = parse(files.get('kustomization.yaml')!)
  t.is(k.namespace, 'shop-main')
  t.deepEqual(k.resources, ['../../kubernetes/overlays/ci'])
  t.deepEqual(k.images, [{name: 'shop/php', newName: 'r/u/php', newTag: 'ci-commit-1'}, {name: 'shop/es', newName: 'r/u/es', digest: 'sha256:abc'}])
  t.deepEqual(k.configMapGenerator, [{name: 'domains', behavior: 'create', files: ['d.yaml=files/domains/d.yaml']}])
  t.deepEqual(k.patches, [{path: 'patches/0-ingress.yaml', target: {kind: 'Ingress'}}])
  t.is(files.get('files/domains/d.yaml'), 'x: 1\n')
  t.is(files.get('patches/0-ingress.yaml'), '- op: replace\n')
})

test('manifest check: objects without a name and leftover placeholders are rejected, in one error', (t) => {
  t.deepEqual(checkManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n', 'm.yaml').objects, ['ConfigMap/a'])
  const error = t.throws(() => checkManifests('apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: "{{x}}"}\n', 'the output of `kubectl kustomize o`'), {instanceOf: ManifestError})
  t.regex(error.message, /^2 problems in the output of `kubectl kustomize o`:\n/)
  t.regex(error.message, /line 7: unrendered placeholder \{\{x\}\}: metadata: \{name: "\{\{x\}\}"\}/)
  t.regex(error.message, /document 1 \(line 1, ConfigMap\): missing metadata\.name/)
  t.regex(error.suggestions.join('\n'), /kustomize\.base/)
})

test('manifest check: placeholders of sed and Handlebars are found, Go and Prometheus templates are not', (t) => {
  for (const placeholder of ['{{FIRST_DOMAIN_HOSTNAME}}', '{{ slug }}', '{{hosts.first}}', '{{json hosts.first}}', '{{{urls.first}}}', '{{#if values.debug}}', '{{/if}}', '{{~ domain ~}}', '{{images.php-fpm.reference}}']) {
    t.deepEqual(unrenderedPlaceholders(`  host: ${placeholder}`), [placeholder], placeholder)
  }
  for (const template of ['{{ .Values.name }}', '{{ $labels.instance }}', '{{ humanize $value }}', '{{ range .Alerts }}', '{{ end }}', '{{- else -}}', '{{ template "slack.title" . }}', '{{/* a comment */}}', '{{ if eq .Status "firing" }}', '{{', '{}']) {
    t.deepEqual(unrenderedPlaceholders(`  text: ${template}`), [], template)
  }
  t.deepEqual(unrenderedPlaceholders('{{ .Name }} at {{slug}}.{{ domain }}'), ['{{slug}}', '{{ domain }}'])
})

test('manifest check: a ConfigMap holding an alerting template passes; a sed placeholder next to it does not', (t) => {
  const alerts = 'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: alerts}\ndata:\n  slack.tmpl: |\n    {{ define "title" }}{{ .Status }}: {{ $labels.instance }}{{ end }}\n'
  t.deepEqual(checkManifests(alerts, 'm.yaml').objects, ['ConfigMap/alerts'])
  const error = t.throws(() => checkManifests(`${alerts}---\napiVersion: v1\nkind: Service\nmetadata: {name: web}\nspec: {externalName: "{{FIRST_DOMAIN_HOSTNAME}}"}\n`, 'm.yaml'), {instanceOf: ManifestError})
  t.regex(error.message, /^1 problem in m\.yaml:\n  - line 11: unrendered placeholder \{\{FIRST_DOMAIN_HOSTNAME\}\}/)
})

test('manifest check: List items are objects of their own; empty output is refused', (t) => {
  t.deepEqual(checkManifests('apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: ConfigMap, metadata: {name: a}}\n- {apiVersion: v1, kind: Secret, metadata: {name: b}}\n', 'm.yaml').objects, ['ConfigMap/a', 'Secret/b'])
  t.throws(() => checkManifests('---\n# nothing\n', 'm.yaml'), {instanceOf: ManifestError, message: /no objects/})
})

test('render of the example gives well-formed manifests for the branch (real kustomize)', async (t) => {
  const ws = await copyExample()
  const result = await runCli(['render', '--workspace', ws, '--json'], {env: ENV})
  t.is(result.exitCode, 0, result.stderr)
  const json = JSON.parse(result.stdout)
  t.is(json.namespace, 'shopsys-demo-feature-jira-1-uber-0ceca07c')
  const text = await readFile(path.join(ws, '.shopsys-ci/manifests.yaml'), 'utf8')
  const objects = parseAllDocuments(text as string).map((d) => (d as {toJS(): any}).toJS())
  t.true(objects.length >= 18)
  for (const o of objects) {
    t.truthy(o.apiVersion && o.kind && o.metadata?.name, JSON.stringify(o).slice(0, 100))
    t.is(o.metadata.namespace, json.namespace, `${o.kind}/${o.metadata.name} is in the branch namespace`)
    t.is(o.metadata.labels['app.kubernetes.io/managed-by'], 'shopsys-ci')
    t.false(['extensions/v1beta1', 'apps/v1beta1'].includes(o.apiVersion), 'modern APIs only')
  }
  t.false(text.includes('{{'))
  const hosts = objects.filter((o) => o.kind === 'Ingress').flatMap((o) => o.spec.rules.map((r: {host: string}) => r.host))
  t.deepEqual(hosts.sort(), [
    '2.feature-jira-1-uber-0ceca07c.ci.example.com',
    'adminer.feature-jira-1-uber-0ceca07c.ci.example.com',
    'elasticsearch.feature-jira-1-uber-0ceca07c.ci.example.com',
    'feature-jira-1-uber-0ceca07c.ci.example.com',
    'redis-admin.feature-jira-1-uber-0ceca07c.ci.example.com',
  ])
  const web = objects.find((o) => o.kind === 'Deployment' && o.metadata.name === 'webserver-php-fpm')
  const images = [...web.spec.template.spec.initContainers, ...web.spec.template.spec.containers].map((c: {image: string}) => c.image)
  t.true(images.every((i: string) => i === `127.0.0.1:5000/shopsys/php-fpm:ci-commit-${'a'.repeat(40)}`), images.join(' '))
  const domains = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('domains-urls-'))
  t.regex(domains.data['domains_urls.yaml'], /url: "http:\/\/feature-jira-1-uber-0ceca07c\.ci\.example\.com:8000"/)
  t.regex(web.spec.template.spec.volumes.find((v: {name: string}) => v.name === 'domains-urls').configMap.name, /^domains-urls-/, 'the hashed ConfigMap name is wired into the pod')
  t.is(await readFile(path.join(ws, 'config/domains_urls.yaml.hbs'), 'utf8').then((s) => s.includes('{{json urls.first}}')), true, 'the template source is untouched')
})

test('render: an unknown template variable exits 2 naming the file and line', async (t) => {
  const ws = await copyExample()
  await writeFile(path.join(ws, 'config/parameters.yaml.hbs'), 'a: 1\nb: {{urls.thrid}}\n')
  const result = await runCli(['render', '--workspace', ws], {env: ENV})
  t.is(result.exitCode, 2)
  t.regex(result.stderr, /config\/parameters\.yaml\.hbs:2: unknown variable in \{\{urls\.thrid\}\}/)
  t.notRegex(result.stderr, /at .*\.js:\d+/, 'no stack trace for an expected error')
})

test('render: a kustomize failure exits 2 with kustomize\'s own message', async (t) => {
  const ws = await copyExample()
  await writeFile(path.join(ws, 'kubernetes/overlays/ci/kustomization.yaml'), 'resources:\n  - missing.yaml\n')
  const result = await runCli(['render', '--workspace', ws], {env: ENV})
  t.is(result.exitCode, 2)
  t.regex(result.stderr, /kustomize failed/)
  t.regex(result.stderr, /missing\.yaml/)
  // Where to look: the config's keys, and the generated overlay with the command to rerun.
  t.regex(result.stderr, /kustomize\.patches/)
  t.regex(result.stderr, /\.shopsys-ci\/overlay\/kustomization\.yaml \(run `kubectl kustomize .*\.shopsys-ci\/overlay`/)
})

test('render: a config without a kustomize section says that it rendered no manifests', async (t) => {
  const ws = await copyExample()
  await writeFile(path.join(ws, '.ci/shopsys-ci.yaml'), 'project: shop\n')
  const result = await runCli(['render', '--workspace', ws], {env: ENV})
  t.is(result.exitCode, 0, result.stderr)
  t.regex(result.stdout, /no manifests: the config has no `kustomize` section/)
})

test('render: a missing kustomize binary exits 3 (a missing tool, like docker) and says how to install it', async (t) => {
  const ws = await copyExample()
  const config = path.join(ws, '.ci/shopsys-ci.yaml')
  await writeFile(config, (await readFile(config, 'utf8')).replace('kustomize:\n', 'kustomize:\n  binary: /nonexistent/kustomize\n'))
  const result = await runCli(['render', '--workspace', ws], {env: ENV})
  t.is(result.exitCode, 3)
  t.regex(result.stderr, /kustomize: \/nonexistent\/kustomize was not found/)
  t.regex(result.stderr, /\(exit 3, TOOL\)/)
  t.regex(result.stderr, /install kubectl/)
})

test('render: kustomize\'s output is reused while none of its inputs changed; a changed base file runs it again; kustomize.cache: false always runs it', async (t) => {
  const ws = await copyExample()
  // A kustomize that counts its runs, so that a reuse is proven, not inferred from the log.
  const bin = tempDir('shopsys-ci-kbin-')
  const runs = path.join(bin, 'runs')
  await writeFile(path.join(bin, 'kustomize'), `#!/bin/sh\necho run >> ${runs}\nexec kubectl kustomize "$2"\n`, {mode: 0o755})
  const configFile = path.join(ws, '.ci/shopsys-ci.yaml')
  const config = await readFile(configFile, 'utf8')
  await writeFile(configFile, config.replace('kustomize:\n', `kustomize:\n  binary: ${path.join(bin, 'kustomize')}\n`))
  const env = {...ENV, XDG_CACHE_HOME: tempDir('shopsys-ci-xdg-')}
  const manifests = () => readFile(path.join(ws, '.shopsys-ci/manifests.yaml'), 'utf8')
  const runCount = async () => (await readFile(runs, 'utf8').catch(() => '')).split('\n').filter(Boolean).length

  const first = await runCli(['render', '--workspace', ws], {env})
  t.is(first.exitCode, 0, first.stderr)
  t.false(first.stdout.includes('kustomize: output'))
  const firstManifests = await manifests()
  const second = await runCli(['render', '--workspace', ws], {env})
  t.is(second.exitCode, 0, second.stderr)
  t.regex(second.stdout, /^kustomize: output reused from the agent's cache \(none of its \d+ input files changed\)$/m)
  t.is(await runCount(), 1)
  t.is(await manifests(), firstManifests)
  // The objects come from the cache too, parsed when they were stored: the same as a fresh parse.
  const reused = await runCli(['render', '--workspace', ws, '--json'], {env})
  t.deepEqual(JSON.parse(reused.stdout).objects, checkManifests(firstManifests, 'm.yaml').objects)
  t.is(await runCount(), 1)

  // A file of the app's base, two kustomizations below the generated overlay.
  const postgres = path.join(ws, 'kubernetes/base/postgres.yaml')
  await writeFile(postgres, (await readFile(postgres, 'utf8')).replace(/image: (\S+)/, 'image: $1-changed'))
  const third = await runCli(['render', '--workspace', ws], {env})
  t.is(third.exitCode, 0, third.stderr)
  t.false(third.stdout.includes('output reused'))
  t.is(await runCount(), 2)
  t.regex(await manifests(), /image: \S+-changed/)

  await writeFile(configFile, (await readFile(configFile, 'utf8')).replace('kustomize:\n', 'kustomize:\n  cache: false\n'))
  const off = await runCli(['render', '--workspace', ws], {env})
  t.is(off.exitCode, 0, off.stderr)
  t.regex(off.stdout, /^kustomize: output not cached: kustomize\.cache is false$/m)
  t.is(await runCount(), 3)
})

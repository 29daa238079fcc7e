/**
 * Shared by the kube integration tests (kube-*.test.ts): a project per test (so tests never see
 * each other's environments, capacity slots or locks), the manifests fixtures, a private system
 * namespace per test process, and teardown that deletes what a test created — through the API
 * directly, never through the code under test.
 */
import {randomBytes} from 'node:crypto'
import {mkdirSync, readFileSync, writeFileSync} from 'node:fs'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import type {ExecutionContext} from 'ava'

import {defaultConfig} from '../../src/config/load.js'
import type {Config} from '../../src/config/model.js'
import type {EnvironmentIdentity} from '../../src/kube/types.js'
import {computeNames} from '../../src/names/index.js'
import {MemoryLogger} from '../../src/util/log.js'
import {apiStatus, deleteNamespace, kube, requireKubeconfig, uniqueName} from '../helpers/stack.js'
import {tempDir} from '../helpers/tmp.js'

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const FIXTURES = path.join(REPO_ROOT, 'test/fixtures/kube')

/** One system namespace (locks, capacity slots) per test process, deleted at the end. */
export const SYSTEM_NAMESPACE = `sci-it-${randomBytes(4).toString('hex')}`
process.env.SHOPSYS_CI_SYSTEM_NAMESPACE = SYSTEM_NAMESPACE

export function fixture(name: string): string {
  return readFileSync(path.join(FIXTURES, name), 'utf8')
}

/** `count` copies of slow.yaml: Deployments slow-0.. that become Ready after `readyAfter`. */
export function slowDeployments(count: number, readyAfter: string): string {
  const template = fixture('slow.yaml')
  return Array.from({length: count}, (_, i) => template.replaceAll('NAME', `slow-${i}`).replace('READY_AFTER', JSON.stringify(readyAfter))).join('\n---\n')
}

export function misbehaving(behavior: string): string {
  return fixture('misbehaving.yaml').replaceAll('BEHAVIOR', behavior)
}

/** A unique project name (≤ 32 characters, a DNS label). */
export function uniqueProject(prefix = 'it'): string {
  return `${prefix}-${randomBytes(3).toString('hex')}`.slice(0, 32)
}

export function testConfig(project: string, overrides: {deploy?: Partial<Config['deploy']>; capacity?: Partial<Config['capacity']>; phases?: Config['phases']} = {}): Config {
  const base = defaultConfig('/nonexistent', {SHOPSYS_CI_PROJECT: project})
  return {
    ...base,
    project,
    deploy: {...base.deploy, timeout: 90_000, lockTimeout: 60_000, ...overrides.deploy},
    capacity: {...base.capacity, ...overrides.capacity},
    phases: overrides.phases ?? base.phases,
  }
}

export function identityOf(config: Config, branch: string, owner = `jenkins-${config.project}-${randomBytes(2).toString('hex')}`): EnvironmentIdentity {
  const names = computeNames({branch, project: config.project, domain: 'ci.example.test', hostPort: 8000, scheme: 'http', hosts: config.names.hosts, namespacePrefix: config.names.namespacePrefix})
  return {
    project: config.project,
    branch: names.branch,
    slug: names.slug,
    namespace: names.namespace,
    commit: randomBytes(20).toString('hex'),
    buildUrl: `https://jenkins.example.test/job/${config.project}/1/`,
    owner,
    ownerSource: 'build',
    urls: names.urls,
  }
}

/** A temporary workspace with `.shopsys-ci/manifests.yaml`. */
export function workspaceWith(manifests: string): {workspace: string; manifestsFile: string} {
  const workspace = tempDir('shopsys-ci-kube-it-')
  mkdirSync(path.join(workspace, '.shopsys-ci'), {recursive: true})
  const manifestsFile = path.join(workspace, '.shopsys-ci/manifests.yaml')
  writeFileSync(manifestsFile, manifests)
  return {workspace, manifestsFile}
}

export function writeManifests(file: string, manifests: string): void {
  writeFileSync(file, manifests)
}

export function logger(): MemoryLogger {
  return new MemoryLogger()
}

/** Namespaces whose deletion a teardown started; `deleteSystemNamespace` waits for them. */
const deleting = new Set<string>()

async function startDelete(name: string): Promise<void> {
  try {
    await kube().core.deleteNamespace({name})
  } catch (error) {
    if (apiStatus(error) !== 404) throw error
  }
  deleting.add(name)
}

/** Deletes every namespace of `project` (labelled by the tool) when the test ends (not waiting). */
export function cleanupProject(t: ExecutionContext, project: string): void {
  t.teardown(async () => {
    const list = await kube().core.listNamespace({labelSelector: `shopsys-ci/project=${project}`})
    await Promise.all(list.items.map((ns) => startDelete(ns.metadata!.name!)))
  })
}

/** Deletes a namespace (created by the test itself) when the test ends (not waiting). */
export function cleanupNamespace(t: ExecutionContext, name: string): void {
  t.teardown(() => startDelete(name))
}

/** For `test.after.always`: deletes this process's system namespace and waits for every deletion started by teardowns. */
export async function deleteSystemNamespace(): Promise<void> {
  if (!process.env.KUBECONFIG) return
  await startDelete(SYSTEM_NAMESPACE).catch(() => undefined)
  const k = kube()
  await Promise.all([...deleting].map((name) => deleteNamespace(k.core, name).catch(() => undefined)))
}

export async function namespaceExists(name: string): Promise<boolean> {
  try {
    await kube().core.readNamespace({name})
    return true
  } catch (error) {
    if (apiStatus(error) === 404) return false
    throw error
  }
}

/**
 * Serves `current` and `previous` as the logs of `container` of each pod (kwok `Logs` objects of the
 * test stack; kwok serves no previous-instance logs otherwise). Lines are written in CRI format.
 */
export async function serveLogs(namespace: string, pods: string[], container: string, current: string[], previous: string[]): Promise<void> {
  const dir = tempDir('shopsys-ci-kwok-logs-')
  const cri = (lines: string[]) => lines.map((l) => `2026-01-01T00:00:00.000000000Z stdout F ${l}\n`).join('')
  writeFileSync(path.join(dir, 'current.log'), cri(current))
  writeFileSync(path.join(dir, 'previous.log'), cri(previous))
  const k = kube()
  for (const pod of pods) {
    await k.objects.create({
      apiVersion: 'kwok.x-k8s.io/v1alpha1',
      kind: 'Logs',
      metadata: {name: pod, namespace},
      spec: {logs: [{containers: [container], logsFile: path.join(dir, 'current.log'), previousLogsFile: path.join(dir, 'previous.log')}]},
    } as never)
  }
}

export async function podNames(namespace: string, labelSelector: string): Promise<string[]> {
  return (await kube().core.listNamespacedPod({namespace, labelSelector})).items.map((p) => p.metadata!.name!)
}

export {kube, requireKubeconfig, uniqueName}

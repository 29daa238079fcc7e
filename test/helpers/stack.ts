/**
 * Helpers for integration tests that run against a real cluster and registry.
 *
 * The tests never start anything themselves: they read where the cluster and the registry are
 * from the environment, so they run against the project's own stack (`test/stack/up`, then
 * `eval "$(test/stack/env)"`) or against any other cluster/registry (kind, k3d, a real
 * cluster) that the variables point at:
 *
 *   KUBECONFIG                          kubeconfig of the cluster (required)
 *   SHOPSYS_CI_TEST_REGISTRY            registry host:port, e.g. 127.0.0.1:35000
 *   SHOPSYS_CI_TEST_REGISTRY_USER       registry user
 *   SHOPSYS_CI_TEST_REGISTRY_PASSWORD   registry password
 *   DOCKER_HOST                         Docker Engine to build/push with (optional)
 *
 * Every test should work in its own namespace (`createTestNamespace`), which is deleted again
 * in `t.teardown`, and name images uniquely (`uniqueName`).
 */
import {spawn} from 'node:child_process';
import {randomBytes} from 'node:crypto';
import {copyFile, rm, writeFile} from 'node:fs/promises';
import {existsSync} from 'node:fs';
import {join} from 'node:path';
import {PassThrough} from 'node:stream';
import type {ExecutionContext} from 'ava';
import {
  AppsV1Api,
  CoreV1Api,
  Exec,
  KubeConfig,
  KubernetesObjectApi,
  type KubernetesObject,
  type V1Pod,
  type V1Status,
} from '@kubernetes/client-node';

import {tempDir} from './tmp.js';

type KubernetesObjectWithSpec = KubernetesObject & {spec: unknown};

/** How to set up a shell for the project's own stack; part of every "not configured" message. */
export const STACK_HINT = 'start the test stack with `test/stack/up` and run `eval "$(test/stack/env)"` in this shell'
  + ' (or point these variables at another cluster/registry, see docs/development.md)';

/** Annotations understood by the stack's kwok Stages (see docs/development.md). */
export const MISBEHAVIOUR = {
  /** `unready` | `crash-loop` | `image-pull-backoff` | `err-image-pull` | `create-container-config-error` */
  behavior: 'shopsys-ci.test/behavior',
  /** Go duration, e.g. `"5s"`: Running but unready, then Ready after that long. */
  readyAfter: 'shopsys-ci.test/ready-after',
  /** Exit code reported in `lastState.terminated` by `crash-loop` (default 1). */
  exitCode: 'shopsys-ci.test/exit-code',
  /** Overrides the waiting message of `crash-loop` and the image/config errors. */
  message: 'shopsys-ci.test/message',
} as const;

export interface RegistryEnv {
  /** host:port */
  registry: string;
  user: string;
  password: string;
}

function missing(names: string[]): Error {
  return new Error(`${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} not set: ${STACK_HINT}`);
}

/** The kubeconfig path from KUBECONFIG; throws a message telling how to set up the stack. */
export function requireKubeconfig(): string {
  const path = process.env.KUBECONFIG;
  if (!path) throw missing(['KUBECONFIG']);
  if (!path.split(':').some(p => existsSync(p))) {
    throw new Error(`KUBECONFIG=${path} does not exist: ${STACK_HINT}`);
  }
  return path;
}

/** Registry coordinates from SHOPSYS_CI_TEST_REGISTRY*; throws a clear message if unset. */
export function requireRegistry(): RegistryEnv {
  const names = ['SHOPSYS_CI_TEST_REGISTRY', 'SHOPSYS_CI_TEST_REGISTRY_USER', 'SHOPSYS_CI_TEST_REGISTRY_PASSWORD'];
  const unset = names.filter(n => !process.env[n]);
  if (unset.length > 0) throw missing(unset);
  return {
    registry: process.env.SHOPSYS_CI_TEST_REGISTRY!,
    user: process.env.SHOPSYS_CI_TEST_REGISTRY_USER!,
    password: process.env.SHOPSYS_CI_TEST_REGISTRY_PASSWORD!,
  };
}

/**
 * Check KUBECONFIG and the registry variables together and report every missing one in one
 * message (use in `test.before` of integration test files).
 */
export function requireStackEnv(): RegistryEnv & {kubeconfig: string} {
  const names = ['KUBECONFIG', 'SHOPSYS_CI_TEST_REGISTRY', 'SHOPSYS_CI_TEST_REGISTRY_USER', 'SHOPSYS_CI_TEST_REGISTRY_PASSWORD'];
  const unset = names.filter(n => !process.env[n]);
  if (unset.length > 0) throw missing(unset);
  return {kubeconfig: requireKubeconfig(), ...requireRegistry()};
}

export interface Kube {
  kc: KubeConfig;
  core: CoreV1Api;
  apps: AppsV1Api;
  objects: KubernetesObjectApi;
}

/** Kubeconfig + the API clients most tests need, from KUBECONFIG. */
export function kube(): Kube {
  requireKubeconfig();
  const kc = new KubeConfig();
  kc.loadFromDefault();
  return {
    kc,
    core: kc.makeApiClient(CoreV1Api),
    apps: kc.makeApiClient(AppsV1Api),
    objects: KubernetesObjectApi.makeApiClient(kc),
  };
}

/** A DNS-1123 label `<prefix>-<random>` (≤ 63 characters), e.g. for namespaces and images. */
export function uniqueName(prefix: string): string {
  const clean = prefix.toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 50) || 'test';
  return `${clean}-${randomBytes(4).toString('hex')}`;
}

export const sleep = (ms: number) => new Promise<void>(resolve => setTimeout(resolve, ms));

/** The HTTP status of a @kubernetes/client-node ApiException (undefined for other errors). */
export function apiStatus(error: unknown): number | undefined {
  const code = (error as {code?: unknown} | null)?.code;
  return typeof code === 'number' ? code : undefined;
}

export interface WaitOptions {
  timeoutMs?: number;
  intervalMs?: number;
}

/**
 * Poll `probe` until it returns something other than `undefined`/`false` and return that.
 * Errors thrown by `probe` count as "not yet"; the last one is reported on timeout.
 */
export async function waitFor<T>(
  description: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  {timeoutMs = 60_000, intervalMs = 250}: WaitOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value as T;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const detail = lastError instanceof Error ? ` (last error: ${lastError.message})` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${description}${detail}`);
    }
    await sleep(intervalMs);
  }
}

/** Wait until the namespace no longer exists (404). */
export async function waitForNamespaceGone(core: CoreV1Api, name: string, options: WaitOptions = {}): Promise<void> {
  await waitFor(`namespace ${name} to be deleted`, async () => {
    try {
      await core.readNamespace({name});
      return false;
    } catch (error) {
      if (apiStatus(error) === 404) return true;
      throw error;
    }
  }, {timeoutMs: 120_000, intervalMs: 500, ...options});
}

/** Delete a namespace (ignoring "not found") and wait until it is gone. */
export async function deleteNamespace(core: CoreV1Api, name: string, options: WaitOptions = {}): Promise<void> {
  try {
    await core.deleteNamespace({name});
  } catch (error) {
    if (apiStatus(error) !== 404) throw error;
  }
  await waitForNamespaceGone(core, name, options);
}

/** Identifies the namespaces created by this test process (label `shopsys-ci.test/run`). */
export const TEST_RUN_ID = uniqueName('run');

/**
 * Create a uniquely named namespace for one test and delete it (waiting until it is gone)
 * in `t.teardown`. Waits for its `default` ServiceAccount, without which pods are rejected.
 * Labels: `shopsys-ci.test/integration: "true"`, `shopsys-ci.test/run: <TEST_RUN_ID>`, plus `labels`.
 */
export async function createTestNamespace(
  t: ExecutionContext,
  k: Pick<Kube, 'core'>,
  prefix = 'it',
  labels: Record<string, string> = {},
): Promise<string> {
  const name = uniqueName(`${prefix}`);
  await k.core.createNamespace({body: {metadata: {name, labels: {'shopsys-ci.test/integration': 'true', 'shopsys-ci.test/run': TEST_RUN_ID, ...labels}}}});
  t.teardown(() => deleteNamespace(k.core, name));
  await waitFor(`ServiceAccount default in ${name}`, () => k.core.readNamespacedServiceAccount({name: 'default', namespace: name}).then(() => true));
  return name;
}

/**
 * Delete the namespaces this test process created that still exist (e.g. after a crash in a
 * test before its teardown ran). Use in `test.after.always`. Never touches other runs' namespaces.
 */
export async function cleanupTestNamespaces(core: CoreV1Api): Promise<void> {
  const left = await core.listNamespace({labelSelector: `shopsys-ci.test/run=${TEST_RUN_ID}`});
  await Promise.all(left.items.map(ns => deleteNamespace(core, ns.metadata!.name!)));
}

/** Pods of a namespace matching a label selector. */
export async function listPods(core: CoreV1Api, namespace: string, labelSelector?: string): Promise<V1Pod[]> {
  return (await core.listNamespacedPod({namespace, labelSelector})).items;
}

/** Wait until `predicate` holds for some pod (or, with `count`, at least that many pods); returns them. */
export async function waitForPods(
  core: CoreV1Api,
  namespace: string,
  labelSelector: string,
  predicate: (pod: V1Pod) => boolean,
  {count = 1, ...options}: WaitOptions & {count?: number} = {},
): Promise<V1Pod[]> {
  return waitFor(`${count} pod(s) ${labelSelector} in ${namespace} in the expected state`, async () => {
    const pods = (await listPods(core, namespace, labelSelector)).filter(predicate);
    return pods.length >= count ? pods : undefined;
  }, options);
}

/** True when the pod's Ready condition is True. */
export function podReady(pod: V1Pod): boolean {
  return pod.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True') ?? false;
}

/** Wait until a Deployment has rolled out: all replicas updated, available, none old. */
export async function waitForRollout(apps: AppsV1Api, namespace: string, name: string, options: WaitOptions = {}): Promise<void> {
  await waitFor(`deployment ${namespace}/${name} to roll out`, async () => {
    const d = await apps.readNamespacedDeployment({name, namespace});
    const want = d.spec?.replicas ?? 1;
    const s = d.status ?? {};
    return (s.observedGeneration ?? 0) >= (d.metadata?.generation ?? 0)
      && (s.updatedReplicas ?? 0) === want
      && (s.availableReplicas ?? 0) === want
      && (s.replicas ?? 0) === want;
  }, {timeoutMs: 90_000, ...options});
}

export interface ExecResult {
  stdout: string;
  stderr: string;
  exitCode: number;
  status: V1Status;
}

/**
 * Run a command in a pod's container through the API server (the same path as `kubectl exec`)
 * and return its output and exit code. Non-zero exit codes are returned, not thrown; failing to
 * run at all (no such pod, exec not served) throws.
 */
export async function execInPod(
  kc: KubeConfig,
  namespace: string,
  pod: string,
  container: string,
  command: string[],
  {timeoutMs = 30_000}: {timeoutMs?: number} = {},
): Promise<ExecResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  stdout.on('data', (b: Buffer) => out.push(b));
  stderr.on('data', (b: Buffer) => err.push(b));
  const status = await new Promise<V1Status>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`exec in ${namespace}/${pod} timed out after ${timeoutMs} ms`)), timeoutMs);
    new Exec(kc)
      .exec(namespace, pod, container, command, stdout, stderr, null, false, s => {
        clearTimeout(timer);
        resolve(s);
      })
      .then(ws => ws.on('close', () => setTimeout(() => reject(new Error(`exec in ${namespace}/${pod}: connection closed without a status`)), 1000)))
      .catch(error => {
        clearTimeout(timer);
        reject(error);
      });
  });
  const result = {stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), status};
  if (status.status === 'Success') return {...result, exitCode: 0};
  const cause = status.details?.causes?.find(c => c.reason === 'ExitCode');
  if (status.reason === 'NonZeroExitCode' && cause?.message) {
    return {...result, exitCode: Number(cause.message)};
  }
  throw new Error(`exec in ${namespace}/${pod} failed: ${status.message ?? JSON.stringify(status)}`);
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Run a program (no shell), optionally feeding `input` on stdin; never throws on exit code. */
export function run(
  command: string,
  args: string[],
  {input, env, cwd}: {input?: string; env?: NodeJS.ProcessEnv; cwd?: string} = {},
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {cwd, env: {...process.env, ...env}, stdio: ['pipe', 'pipe', 'pipe']});
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', code => resolve({code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString()}));
    // A command that exits without reading its stdin closes the pipe: its exit code says what happened.
    child.stdin.on('error', () => {});
    child.stdin.end(input ?? '');
  });
}

/** Like `run`, but throws (with the command's stderr) unless it exits 0. */
export async function runOk(command: string, args: string[], options: Parameters<typeof run>[2] = {}): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.code}:\n${result.stderr || result.stdout}`);
  }
  return result;
}

/** One line of a fake container log. */
export interface FakeLogLine {
  text: string;
  stream?: 'stdout' | 'stderr';
  /** default: one second apart, starting 2026-01-01T00:00:00Z */
  time?: Date;
}

/**
 * Make `kubectl logs` (and the API's pods/log) return the given lines for containers of one pod
 * on a kwok node of the project's stack: writes CRI-format log files into a temporary directory
 * and creates a kwok `Logs` object (kwok.x-k8s.io/v1alpha1, named like the pod) pointing at them.
 * Only works when kwok runs on this machine (test/stack). The files are removed in `t.teardown`;
 * the Logs object goes with its namespace.
 */
export async function setFakePodLogs(
  t: ExecutionContext,
  k: Pick<Kube, 'objects'>,
  namespace: string,
  pod: string,
  containers: Record<string, Array<string | FakeLogLine>>,
): Promise<void> {
  const dir = tempDir('shopsys-ci-fake-logs-');
  t.teardown(() => rm(dir, {recursive: true, force: true}));
  const logs = [];
  for (const [container, lines] of Object.entries(containers)) {
    const file = join(dir, `${container}.log`);
    const start = Date.parse('2026-01-01T00:00:00Z');
    const content = lines.map((line, i) => {
      const l = typeof line === 'string' ? {text: line} : line;
      const time = (l.time ?? new Date(start + i * 1000)).toISOString();
      return `${time} ${l.stream ?? 'stdout'} F ${l.text}\n`;
    }).join('');
    await writeFile(file, content);
    logs.push({containers: [container], logsFile: file});
  }
  await k.objects.create({apiVersion: 'kwok.x-k8s.io/v1alpha1', kind: 'Logs', metadata: {name: pod, namespace}, spec: {logs}} as KubernetesObjectWithSpec);
}

/** Statically linked busybox from Debian's busybox-static (test/stack/up installs it). */
export const BUSYBOX_STATIC = '/bin/busybox';

/**
 * Environment for `docker build`: the legacy builder (Debian's dockerd 20.10 has no buildx
 * here), so the deprecation notice on stderr is expected.
 */
export const DOCKER_BUILD_ENV: NodeJS.ProcessEnv = {DOCKER_BUILDKIT: '0'};

export interface BusyboxImageOptions {
  /** Extra Dockerfile lines after busybox is installed (e.g. `CMD ["sh"]`, `LABEL ...`). */
  dockerfileLines?: string[];
  /** Extra files put into the build context: name → content. */
  files?: Record<string, string>;
}

/**
 * Build a tiny image `FROM scratch` with a static busybox (`/bin/sh` and friends), tagged `tag`.
 * Nothing is pulled. The build context is a temporary directory, removed afterwards.
 */
export async function buildBusyboxImage(tag: string, {dockerfileLines = [], files = {}}: BusyboxImageOptions = {}): Promise<void> {
  if (!existsSync(BUSYBOX_STATIC)) {
    throw new Error(`${BUSYBOX_STATIC} is missing: install Debian's busybox-static (test/stack/up does)`);
  }
  const dir = tempDir('shopsys-ci-image-');
  try {
    await copyFile(BUSYBOX_STATIC, join(dir, 'busybox'));
    for (const [name, content] of Object.entries(files)) await writeFile(join(dir, name), content);
    await writeFile(join(dir, 'Dockerfile'), [
      'FROM scratch',
      'COPY busybox /bin/busybox',
      'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
      ...dockerfileLines,
      '',
    ].join('\n'));
    await runOk('docker', ['build', '--quiet', '--tag', tag, dir], {env: DOCKER_BUILD_ENV});
  } finally {
    await rm(dir, {recursive: true, force: true});
  }
}

/** A throw-away DOCKER_CONFIG directory: pass `env` to docker commands, call `cleanup()` after. */
export interface DockerConfig {
  dir: string;
  env: NodeJS.ProcessEnv;
  cleanup: () => Promise<void>;
}

export async function tempDockerConfig(): Promise<DockerConfig> {
  const dir = tempDir('shopsys-ci-docker-config-');
  return {dir, env: {DOCKER_CONFIG: dir}, cleanup: () => rm(dir, {recursive: true, force: true})};
}

/** `docker login` with the password on stdin (never argv) into the given DOCKER_CONFIG. */
export function dockerLogin(config: DockerConfig, {registry, user, password}: RegistryEnv): Promise<RunResult> {
  return run('docker', ['login', '--username', user, '--password-stdin', registry], {input: password, env: config.env});
}

/**
 * Build a busybox image and push it to the test registry as `<registry>/<repository>:<tag>`
 * (logging in with a throw-away DOCKER_CONFIG); returns the full image reference.
 */
export async function pushBusyboxImage(repository: string, tag: string, options: BusyboxImageOptions = {}): Promise<string> {
  const reg = requireRegistry();
  const ref = `${reg.registry}/${repository}:${tag}`;
  await buildBusyboxImage(ref, options);
  const config = await tempDockerConfig();
  try {
    const login = await dockerLogin(config, reg);
    if (login.code !== 0) throw new Error(`docker login ${reg.registry} failed: ${login.stderr}`);
    await runOk('docker', ['push', ref], {env: config.env});
  } finally {
    await config.cleanup();
  }
  return ref;
}

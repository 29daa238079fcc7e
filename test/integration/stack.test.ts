/**
 * The real test stack works the way the rest of the integration tests rely on: registry with
 * authentication, Docker builds FROM scratch, a Kubernetes API server with a real
 * controller-manager and scheduler, kwok nodes that run pods, exec and logs through the API
 * server, and the misbehaviour annotations of the stack's kwok Stages.
 *
 * Runs against whatever KUBECONFIG and SHOPSYS_CI_TEST_REGISTRY* point at:
 *   test/stack/up && eval "$(test/stack/env)" && npx ava --serial test/integration/stack.test.ts
 * On a cluster with real nodes, set SHOPSYS_CI_TEST_POD_IMAGE to a pullable image with `sh`.
 * The misbehaviour tests need the project's kwok Stages (test/stack/kwok/pod-stages.yaml); they
 * are skipped on clusters without kwok nodes.
 */
import test from 'ava';
import {PatchStrategy, type V1Deployment, type V1Pod} from '@kubernetes/client-node';
import {
  MISBEHAVIOUR,
  cleanupTestNamespaces,
  createTestNamespace,
  dockerLogin,
  execInPod,
  kube,
  podReady,
  pushBusyboxImage,
  requireRegistry,
  requireStackEnv,
  run,
  setFakePodLogs,
  sleep,
  tempDockerConfig,
  uniqueName,
  waitFor,
  waitForNamespaceGone,
  waitForPods,
  waitForRollout,
} from '../helpers/stack.js';

// Fail every test with the same clear message when the environment is not set up.
test.before(() => {
  requireStackEnv();
});

/**
 * The image of the test pods: by default one that exists nowhere (kwok never pulls, so the pods
 * still run). On a real cluster set SHOPSYS_CI_TEST_POD_IMAGE to a pullable image with `sh`.
 */
const podImage = () => process.env.SHOPSYS_CI_TEST_POD_IMAGE
  || `${requireRegistry().registry}/shopsys-ci-test/does-not-exist:${uniqueName('nope')}`;
const podCommand = ['sh', '-c', 'echo started; exec sleep 3600'];

function deployment(name: string, replicas: number, podAnnotations: Record<string, string> = {}): V1Deployment {
  return {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: {name, labels: {app: name}},
    spec: {
      replicas,
      selector: {matchLabels: {app: name}},
      template: {
        metadata: {labels: {app: name}, annotations: podAnnotations},
        spec: {
          containers: [{name: 'app', image: podImage(), command: podCommand}],
          // One pod per node, like an app that must be spread.
          topologySpreadConstraints: [{
            maxSkew: 1,
            topologyKey: 'kubernetes.io/hostname',
            whenUnsatisfiable: 'DoNotSchedule',
            labelSelector: {matchLabels: {app: name}},
          }],
        },
      },
    },
  };
}

function pod(name: string, annotations: Record<string, string> = {}): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {name, labels: {app: name}, annotations},
    spec: {containers: [{name: 'app', image: podImage(), command: podCommand}]},
  };
}

async function hasKwokNodes(): Promise<boolean> {
  const nodes = await kube().core.listNode({labelSelector: 'type=kwok'});
  return nodes.items.length > 0;
}

test.serial('registry: anonymous access is refused, a wrong password does not log in', async t => {
  const reg = requireRegistry();
  const anonymous = await fetch(`http://${reg.registry}/v2/`);
  t.is(anonymous.status, 401);
  t.regex(anonymous.headers.get('www-authenticate') ?? '', /^Basic /);

  const config = await tempDockerConfig();
  t.teardown(config.cleanup);
  const wrong = await dockerLogin(config, {...reg, password: `${reg.password}-wrong`});
  t.not(wrong.code, 0, 'docker login with a wrong password must fail');
  const right = await dockerLogin(config, reg);
  t.is(right.code, 0, right.stderr);
});

test.serial('docker: a busybox image built FROM scratch is pushed and is in the registry', async t => {
  const reg = requireRegistry();
  const repository = 'shopsys-ci-test/busybox';
  const tag = uniqueName('t');
  const ref = await pushBusyboxImage(repository, tag, {dockerfileLines: ['CMD ["sh", "-c", "echo built-from-scratch"]']});
  t.is(ref, `${reg.registry}/${repository}:${tag}`);

  const ran = await run('docker', ['run', '--rm', '--network', 'none', ref]);
  t.is(ran.code, 0, ran.stderr);
  t.is(ran.stdout.trim(), 'built-from-scratch');

  const auth = Buffer.from(`${reg.user}:${reg.password}`).toString('base64');
  const head = await fetch(`http://${reg.registry}/v2/${repository}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      authorization: `Basic ${auth}`,
      accept: 'application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json',
    },
  });
  t.is(head.status, 200);
  t.truthy(head.headers.get('docker-content-digest'));
  await run('docker', ['image', 'rm', ref]);
});

test.serial('cluster: at least two nodes are Ready', async t => {
  const {core} = kube();
  const nodes = (await core.listNode()).items;
  const ready = nodes.filter(n => n.status?.conditions?.some(c => c.type === 'Ready' && c.status === 'True'));
  t.true(ready.length >= 2, `Ready nodes: ${ready.map(n => n.metadata?.name).join(', ') || 'none'}`);
});

test.serial('cluster: a 2-replica Deployment of an image that does not exist rolls out on both nodes', async t => {
  const k = kube();
  const namespace = await createTestNamespace(t, k, 'it-rollout');
  await k.apps.createNamespacedDeployment({namespace, body: deployment('web', 2)});
  await waitForRollout(k.apps, namespace, 'web');
  const pods = await waitForPods(k.core, namespace, 'app=web', podReady, {count: 2});
  const nodes = new Set(pods.map(p => p.spec?.nodeName));
  t.is(nodes.size, 2, `pods on nodes: ${[...nodes].join(', ')}`);
  for (const p of pods) t.is(p.status?.phase, 'Running');
});

test.serial('exec through the API server returns output and exit code; logs are served', async t => {
  const k = kube();
  const namespace = await createTestNamespace(t, k, 'it-exec');
  await k.core.createNamespacedPod({namespace, body: pod('shell')});
  await waitForPods(k.core, namespace, 'app=shell', podReady);

  const failing = await execInPod(k.kc, namespace, 'shell', 'app', ['sh', '-c', 'echo hi; echo oops >&2; exit 3']);
  t.is(failing.stdout, 'hi\n');
  t.is(failing.stderr, 'oops\n');
  t.is(failing.exitCode, 3);

  const ok = await execInPod(k.kc, namespace, 'shell', 'app', ['sh', '-c', 'echo ok']);
  t.is(ok.stdout, 'ok\n');
  t.is(ok.exitCode, 0);

  const logs = await k.core.readNamespacedPodLog({name: 'shell', namespace, container: 'app'});
  t.true(logs.length > 0, 'the pod has some log output');
});

test.serial('logs: a kwok Logs object serves a test\'s own lines for one pod', async t => {
  const k = kube();
  const crd = await k.objects.read({apiVersion: 'apiextensions.k8s.io/v1', kind: 'CustomResourceDefinition', metadata: {name: 'logs.kwok.x-k8s.io'}})
    .catch(() => undefined);
  if (!crd) {
    t.log('no kwok Logs CRD in this cluster: fake logs are a feature of test/stack');
    t.pass();
    return;
  }
  const namespace = await createTestNamespace(t, k, 'it-logs');
  await k.core.createNamespacedPod({namespace, body: pod('talker')});
  await waitForPods(k.core, namespace, 'app=talker', podReady);
  await setFakePodLogs(t, k, namespace, 'talker', {app: ['first line', {text: 'an error', stream: 'stderr'}, 'last line']});
  const logs = await waitFor('the fake log', async () => {
    const text = await k.core.readNamespacedPodLog({name: 'talker', namespace, container: 'app'});
    return text.includes('last line') ? text : undefined;
  }, {timeoutMs: 15_000});
  t.is(logs, 'first line\nan error\nlast line\n');
  t.is(await k.core.readNamespacedPodLog({name: 'talker', namespace, container: 'app', tailLines: 1}), 'last line\n');
});

test.serial('a namespace with objects in it is deleted completely', async t => {
  const k = kube();
  const namespace = await createTestNamespace(t, k, 'it-delete');
  await k.apps.createNamespacedDeployment({namespace, body: deployment('app', 2)});
  await k.core.createNamespacedConfigMap({namespace, body: {metadata: {name: 'config'}, data: {a: 'b'}}});
  await k.core.createNamespacedSecret({namespace, body: {metadata: {name: 'secret'}, stringData: {password: 'x'}}});
  await k.core.createNamespacedService({namespace, body: {
    metadata: {name: 'app'},
    spec: {selector: {app: 'app'}, ports: [{port: 80, targetPort: 8080}]},
  }});
  await waitForRollout(k.apps, namespace, 'app');

  await k.core.deleteNamespace({name: namespace});
  const terminating = await k.core.readNamespace({name: namespace}).catch(() => undefined);
  if (terminating) t.is(terminating.status?.phase, 'Terminating');
  await waitForNamespaceGone(k.core, namespace, {timeoutMs: 90_000});
  t.pass();
});

test.serial('kwok misbehaviours show up in pod status like a kubelet reports them', async t => {
  if (!(await hasKwokNodes())) {
    t.log('no kwok nodes (label type=kwok) in this cluster: misbehaviour annotations are a feature of test/stack');
    t.pass();
    return;
  }
  const k = kube();
  const namespace = await createTestNamespace(t, k, 'it-misbehave');
  const pods: Record<string, V1Pod> = {
    'crash': pod('crash', {[MISBEHAVIOUR.behavior]: 'crash-loop', [MISBEHAVIOUR.exitCode]: '2'}),
    'pull': pod('pull', {[MISBEHAVIOUR.behavior]: 'image-pull-backoff'}),
    'errpull': pod('errpull', {[MISBEHAVIOUR.behavior]: 'err-image-pull'}),
    'config': pod('config', {[MISBEHAVIOUR.behavior]: 'create-container-config-error'}),
    'unready': pod('unready', {[MISBEHAVIOUR.behavior]: 'unready'}),
    'later': pod('later', {[MISBEHAVIOUR.readyAfter]: '5s'}),
  };
  for (const body of Object.values(pods)) await k.core.createNamespacedPod({namespace, body});

  const status = async (name: string) => (await k.core.readNamespacedPod({name, namespace})).status ?? {};
  const container = async (name: string) => (await status(name)).containerStatuses?.[0];
  const readyCondition = async (name: string) => (await status(name)).conditions?.find(c => c.type === 'Ready');

  // CrashLoopBackOff with a growing restartCount and the last exit code.
  const crash = await waitFor('crash-loop pod', async () => {
    const c = await container('crash');
    return c?.state?.waiting?.reason === 'CrashLoopBackOff' ? c : undefined;
  });
  t.true((crash.restartCount ?? 0) >= 1);
  t.false(crash.ready);
  t.is(crash.lastState?.terminated?.exitCode, 2);
  t.is(crash.lastState?.terminated?.reason, 'Error');
  t.regex(crash.state?.waiting?.message ?? '', /^back-off \d+s restarting failed container=app pod=crash_/);
  t.is((await status('crash')).phase, 'Running');

  for (const [name, reason] of [['pull', 'ImagePullBackOff'], ['errpull', 'ErrImagePull'], ['config', 'CreateContainerConfigError']]) {
    const c = await waitFor(`${name} pod`, async () => {
      const s = await container(name);
      return s?.state?.waiting?.reason ? s : undefined;
    });
    t.is(c.state?.waiting?.reason, reason, name);
    t.false(c.ready, name);
    t.is((await status(name)).phase, 'Pending', name);
  }
  t.regex((await container('pull'))?.state?.waiting?.message ?? '', /^Back-off pulling image "/);

  // Unready: running, but Ready=False (ContainersNotReady), and it stays that way.
  await waitFor('unready pod running', async () => (await status('unready')).phase === 'Running');
  await sleep(2000);
  const unready = await readyCondition('unready');
  t.is(unready?.status, 'False');
  t.is(unready?.reason, 'ContainersNotReady');
  t.truthy((await container('unready'))?.state?.running);

  // ready-after: Running but unready first, Ready about 5 s later.
  // The cluster's own timestamps (whole seconds) tell when it started and when it became Ready.
  const later = await waitFor('ready-after pod Ready', async () => {
    const condition = await readyCondition('later');
    return condition?.status === 'True' ? condition : undefined;
  }, {timeoutMs: 30_000});
  const startedAt = (await status('later')).startTime;
  const readyAfter = new Date(later.lastTransitionTime!).getTime() - new Date(startedAt!).getTime();
  t.true(readyAfter >= 4000, `Ready ${readyAfter} ms after the pod started`);
  t.true((await container('later'))?.ready);

  // The crash loop goes on: restartCount grows (every 10 s).
  const restarted = await waitFor('another restart', async () => {
    const c = await container('crash');
    return (c?.restartCount ?? 0) > (crash.restartCount ?? 0) ? c : undefined;
  }, {timeoutMs: 30_000});
  t.is(restarted.state?.waiting?.reason, 'CrashLoopBackOff');

  // A kubelet-like Warning event for the crash loop.
  const events = await k.core.listNamespacedEvent({namespace, fieldSelector: 'involvedObject.name=crash'});
  t.true(events.items.some(e => e.reason === 'BackOff' && e.type === 'Warning'));
});

test.serial('server-side apply of a Deployment through KubernetesObjectApi', async t => {
  const k = kube();
  const namespace = await createTestNamespace(t, k, 'it-apply');
  const manager = 'shopsys-ci-test';
  const desired = (replicas: number): V1Deployment => {
    const d = deployment('applied', replicas);
    d.metadata = {...d.metadata, namespace};
    return d;
  };

  await k.objects.patch(desired(1), undefined, undefined, manager, true, PatchStrategy.ServerSideApply);
  await waitForRollout(k.apps, namespace, 'applied');

  // Apply again with a change: same manager, so no conflict, and the change lands.
  const applied = await k.objects.patch(desired(2), undefined, undefined, manager, true, PatchStrategy.ServerSideApply);
  t.is(applied.spec?.replicas, 2);
  t.true(applied.metadata?.managedFields?.some(f => f.manager === manager && f.operation === 'Apply'));
  await waitForRollout(k.apps, namespace, 'applied');

  // Another manager changing an owned field without force is refused (409 conflict).
  const conflict = await k.objects.patch(
    {apiVersion: 'apps/v1', kind: 'Deployment', metadata: {name: 'applied', namespace}, spec: {replicas: 3}},
    undefined, undefined, 'someone-else', false, PatchStrategy.ServerSideApply,
  ).then(() => undefined, (error: {code?: number}) => error);
  t.is(conflict?.code, 409);
});

test.after.always('no test namespace of this run is left behind', async () => {
  if (process.env.KUBECONFIG) await cleanupTestNamespaces(kube().core);
});

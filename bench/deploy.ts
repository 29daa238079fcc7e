/**
 * Deploy and cleanup against the test stack (KUBECONFIG), ratios from one run:
 *
 * 1. Eight Deployments that each become Ready 5 s after kwok sees their pod: the time `deploy`
 *    spends waiting for the rollout, divided by 40 s (the original waited for them one after the
 *    other: 8 × 5 s). Target ≤ 0.25.
 * 2. `cleanup`: from the moment the namespace disappears (seen by an independent watch in this
 *    process) to `cleanup` returning.
 *
 *   test/stack/up && eval "$(test/stack/env)" && node --import tsx bench/deploy.ts
 */
import {randomBytes} from 'node:crypto'
import {mkdirSync, mkdtempSync, writeFileSync} from 'node:fs'
import {tmpdir} from 'node:os'
import path from 'node:path'

process.env.SHOPSYS_CI_SYSTEM_NAMESPACE ??= `sci-bench-${randomBytes(3).toString('hex')}`

const {defaultConfig} = await import('../src/config/load.js')
const {cleanupEnvironment, deployEnvironment} = await import('../src/kube/index.js')
const {getKube} = await import('../src/kube/client.js')
const {MemoryLogger} = await import('../src/util/log.js')
const {formatDuration} = await import('../src/util/duration.js')

if (!process.env.KUBECONFIG) {
  console.error('bench/deploy: KUBECONFIG is not set; run test/stack/up and eval "$(test/stack/env)"')
  process.exit(2)
}

const COUNT = 8
const READY_AFTER_S = 5
const project = `bench-${randomBytes(3).toString('hex')}`
const base = defaultConfig('/nonexistent', {SHOPSYS_CI_PROJECT: project})
const config = {...base, project, deploy: {...base.deploy, timeout: 120_000}}
const slug = 'bench'
const identity = {
  project,
  branch: 'bench',
  slug,
  namespace: `${project}-${slug}`,
  commit: '0'.repeat(40),
  owner: 'bench',
  ownerSource: 'build' as const,
  urls: {},
}

const deployment = (i: number) => `apiVersion: apps/v1
kind: Deployment
metadata: {name: slow-${i}}
spec:
  replicas: 1
  selector: {matchLabels: {app: slow-${i}}}
  template:
    metadata:
      labels: {app: slow-${i}}
      annotations: {shopsys-ci.test/ready-after: "${READY_AFTER_S}s"}
    spec:
      containers: [{name: app, image: 127.0.0.1:5000/bench/app:1}]
`
const workspace = mkdtempSync(path.join(tmpdir(), 'shopsys-ci-bench-deploy-'))
mkdirSync(path.join(workspace, '.shopsys-ci'))
const manifestsFile = path.join(workspace, '.shopsys-ci/manifests.yaml')
writeFileSync(manifestsFile, Array.from({length: COUNT}, (_, i) => deployment(i)).join('---\n'))

const quiet = new MemoryLogger()
const kube = await getKube()
try {
  const deployed = await deployEnvironment({identity, config, manifestsFile, logger: quiet})
  const serial = COUNT * READY_AFTER_S * 1000
  const wait = deployed.timings.rollout
  console.log(`deploy: ${COUNT} Deployments, each Ready ${READY_AFTER_S}s after its pod is seen`)
  console.log(`  rollout wait        ${formatDuration(wait).padStart(8)}   ${(wait / serial).toFixed(3)} of ${serial / 1000}s (one after another)   (target <= 0.25)`)
  console.log(`  whole deploy        ${formatDuration(deployed.timings.total).padStart(8)}   (apply ${formatDuration(deployed.timings.apply)}, lock ${formatDuration(deployed.timings.lockWait)})`)

  // An independent watch sees the namespace go; cleanup's return is measured against it.
  let seenGone: number | undefined
  const watch = new kube.k8s.Watch(kube.kc)
  const controller = await watch.watch(
    '/api/v1/namespaces',
    {fieldSelector: `metadata.name=${identity.namespace}`},
    (type: string) => {
      if (type === 'DELETED') seenGone = performance.timeOrigin + performance.now()
    },
    () => undefined,
  )
  const started = Date.now()
  const cleaned = await cleanupEnvironment({identity, config, logger: quiet})
  const returned = performance.timeOrigin + performance.now()
  controller.abort()
  console.log('cleanup')
  console.log(`  whole cleanup       ${formatDuration(returned - started).padStart(8)}   (outcome ${cleaned.outcome})`)
  if (seenGone === undefined) console.log('  the independent watch did not see the namespace go')
  else console.log(`  gone -> returned    ${formatDuration(returned - seenGone).padStart(8)}   (namespace disappearance seen by a separate watch to cleanup returning)`)
} finally {
  await kube.core.deleteNamespace({name: identity.namespace}).catch(() => undefined)
  await kube.core.deleteNamespace({name: process.env.SHOPSYS_CI_SYSTEM_NAMESPACE!}).catch(() => undefined)
}
process.exit(0)

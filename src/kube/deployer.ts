/**
 * The deploy stage (DESIGN §2 step 6) and its undo (step 10), behind the `Deployer` interface.
 *
 * deploy: branch lock → wait out a Terminating namespace → refuse a namespace we do not own →
 * (--fresh: delete and wait) → capacity slot → namespace with labels/annotations (server-side
 * apply) → quota, limits, pull secret, deploy.secrets → every manifest (server-side apply, field
 * manager `shopsys-ci`, force; the readers of deploy.secrets with the Secrets' versions) →
 * in place: prune what earlier deploys applied and the manifests dropped → wait for all workloads
 * at once → release the lock.
 *
 * cleanup: branch lock → the hard guard (managed-by + project, never default/kube-*) → not when
 * kept for review or owned by another (newer) build → delete → wait until gone → free the slot.
 */
import {EXPIRES_AT_ANNOTATION, FIELD_MANAGER} from '../conventions.js'
import {CleanupError, DeployError} from '../errors.js'
import {mapLimit} from '../util/concurrency.js'
import {formatDuration} from '../util/duration.js'
import type {Logger} from '../util/log.js'
import {type AppSecret, appSecretObject, formatSecretNames, parseSecretNames, sameSecretRecords, secretsAlsoInManifests, withSecretVersions} from './app-secrets.js'
import {acquireCapacitySlot, releaseCapacitySlots} from './capacity.js'
import {apiMessage, getKube, isConflict, type Kube, isNotFound} from './client.js'
import {ANN_APP_SECRETS, ANN_APPLIED_KINDS, ANN_PULL_SECRET, LIMIT_RANGE_NAME, QUOTA_NAME, systemNamespace as defaultSystemNamespace} from './constants.js'
import {deletionVerdict, deployVerdict, isProtectedNamespace} from './guard.js'
import {cleanupInterruption, cleanupProgress, type CleanupProgress, deployInterruption, deployProgress, type DeployProgress, reportingInterruption, stepper} from './interruption.js'
import {isImmutableFieldError, isImmutableJobError, recreateJob, RECREATE_SUGGESTIONS} from './immutable.js'
import type {HeldLease} from './lease.js'
import {acquireBranchLock} from './locks.js'
import {applyOrder, describeObject, type ManifestObject, planApply, readManifests} from './manifests.js'
import {environmentLabels, isTerminating, namespaceMetadata, readEnvironment} from './metadata.js'
import {appliedAt, applyNamespace, deleteNamespace, deletionBlockers, readNamespace, waitDefaultServiceAccount, waitNamespaceGone} from './namespace.js'
import {startOwnerHeartbeat} from './owner.js'
import {appliedKindsAnnotation, type KindRef, kindKey, listLiveObjects, type LiveList, type LiveObject, parseAppliedKinds, pruneRemoved, uniqueKinds} from './prune.js'
import {unroutedUrls} from './routes.js'
import {defaultServiceAccount, PULL_SECRET_NAME, pullSecretObjects, type RegistryCredentials} from './pull-secret.js'
import {type RolloutWaiter, WatchRolloutWaiter} from './rollout.js'
import {isUnchanged, withAppliedHash} from './unchanged.js'
import type {AppliedObject, CleanupContext, CleanupResult, DeployContext, DeployResult, EnvironmentIdentity} from './types.js'

export interface Deployer {
  deploy(ctx: DeployContext): Promise<DeployResult>
  cleanup(ctx: CleanupContext): Promise<CleanupResult>
}

export interface DeployerOptions {
  kube?: Kube
  waiter?: RolloutWaiter
  /** Namespace of the locks and capacity slots (default $SHOPSYS_CI_SYSTEM_NAMESPACE or shopsys-ci-system). */
  systemNamespace?: string
  /** Objects applied at once within one kind group. */
  applyConcurrency?: number
}

interface Policies {
  quota?: Record<string, string | number>
  limits?: unknown[]
  /** Credentials of the image pull secret, when deploy.imagePullSecret is on. */
  pull?: RegistryCredentials
  /** The namespace had a pull secret from an earlier deploy. */
  hadPull: boolean
  /** The Secrets of deploy.secrets, with their values. */
  secrets: AppSecret[]
  /** The names of those an earlier deploy made (the namespace's annotation). */
  hadSecrets: string[]
}

export class ServerSideApplyDeployer implements Deployer {
  constructor(private readonly options: DeployerOptions = {}) {}

  private async kube(): Promise<Kube> {
    return this.options.kube ?? getKube()
  }

  private get systemNamespace(): string {
    return this.options.systemNamespace ?? defaultSystemNamespace()
  }

  /**
   * Interrupted (ctx.signal aborted), the deploy stops where it is, releases the branch lock and
   * throws an InterruptedError saying what it leaves: it never deletes anything because of it.
   */
  async deploy(ctx: DeployContext): Promise<DeployResult> {
    const progress = deployProgress(ctx.identity.namespace)
    return reportingInterruption(ctx.signal, progress, deployInterruption, () => this.deployTracked(ctx, progress))
  }

  private async deployTracked(ctx: DeployContext, progress: DeployProgress): Promise<DeployResult> {
    const {identity, config, logger, signal} = ctx
    const step = stepper(progress, signal)
    const ns = identity.namespace
    const fresh = ctx.fresh ?? config.deploy.fresh
    const keep = ctx.keep ?? config.deploy.keep
    if (isProtectedNamespace(ns, this.systemNamespace)) {
      throw new DeployError(`refusing to deploy into namespace "${ns}": default, kube-* and the tool's own namespace are never used for a branch`)
    }
    // Parse and check the manifests before touching the cluster.
    const manifests = ctx.manifests ?? readManifests(ctx.manifestsFile)
    const kube = await this.kube()
    const started = Date.now()
    const timings = {startedAt: started, lockedAt: 0, lockWait: 0, terminatingWait: 0, capacityWait: 0, apply: 0, rollout: 0, total: 0}

    const scope = new Map<string, boolean | undefined>()
    await Promise.all(
      [...new Set(manifests.map((o) => `${o.apiVersion}\n${o.kind}`))].map(async (key) => {
        const [apiVersion, kind] = key.split('\n')
        scope.set(key, await kube.isNamespaced(apiVersion, kind))
      }),
    )
    const planned = planApply(manifests, {
      namespace: ns,
      allowClusterScoped: config.deploy.allowClusterScoped,
      scope: (apiVersion, kind) => scope.get(`${apiVersion}\n${kind}`),
    })
    // Before the lock: nothing to wait for when the deploy cannot go on.
    const secrets = ctx.appSecrets ?? []
    const configured = Object.keys(config.deploy.secrets)
    if (secrets.length !== configured.length) throw new DeployError(`deploy.secrets names ${configured.length} Secret(s), but the values of ${secrets.length} were passed to the deploy`)
    const twice = secretsAlsoInManifests(secrets, planned)
    if (twice.length > 0) {
      throw new DeployError(`Secret ${twice.join(', ')} is both in deploy.secrets and in the manifests: each would overwrite the other`, {
        suggestions: ['keep it in one place: deploy.secrets for values from the environment (credentials), the manifests (or kustomize secretGenerator) for the rest'],
      })
    }
    for (const u of unroutedUrls(planned, identity.urls)) {
      logger.warn(`no Ingress or HTTPRoute in the manifests serves ${u.host}, so the URL "${u.name}" (${u.url}) leads nowhere: check the host patches (kustomize.patches) or names.hosts`)
    }

    let t = Date.now()
    step('lock')
    const lock = await acquireBranchLock(kube, {identity, systemNamespace: this.systemNamespace, timeout: config.deploy.lockTimeout, logger, signal: ctx.signal})
    progress.lock = 'held'
    timings.lockedAt = Date.now()
    timings.lockWait = timings.lockedAt - t
    let heartbeat: {stop(): void} | undefined
    try {
      let existing = await readNamespace(kube, ns)
      if (existing && isTerminating(existing)) {
        step('terminating')
        logger.info(`namespace ${ns} is still being deleted; waiting for it to go`)
        t = Date.now()
        await this.waitGone(kube, ns, config.deploy.timeout, ctx.signal, 'deploy')
        timings.terminatingWait = Date.now() - t
        logger.info(`namespace ${ns} is gone (waited ${formatDuration(timings.terminatingWait)})`)
        existing = await readNamespace(kube, ns)
        if (existing && isTerminating(existing)) throw new DeployError(`namespace ${ns} was deleted and is being deleted again by someone else; giving up`)
      }
      progress.existed = existing !== undefined
      if (existing) {
        const verdict = deployVerdict(existing, identity.project, identity.slug, this.systemNamespace)
        if (!verdict.ok) {
          throw new DeployError(`refusing to deploy branch "${identity.branch}" into existing namespace "${ns}": ${verdict.reason}`, {
            suggestions: ['this namespace is not an environment of this project and branch; choose another namespace prefix (names.namespacePrefix) or --namespace'],
          })
        }
        if (fresh) {
          step('fresh')
          logger.info(`--fresh: deleting namespace ${ns} first`)
          t = Date.now()
          progress.deletedFresh = await deleteNamespace(kube, ns, existing.metadata?.uid)
          await this.waitGone(kube, ns, config.deploy.timeout, ctx.signal, 'deploy')
          timings.terminatingWait += Date.now() - t
          existing = undefined
        }
      }

      let capacitySlot: number | undefined
      if (config.capacity.maxEnvironments > 0) {
        step('capacity')
        t = Date.now()
        capacitySlot = await acquireCapacitySlot(kube, {
          project: identity.project,
          namespace: ns,
          max: config.capacity.maxEnvironments,
          systemNamespace: this.systemNamespace,
          deadline: t + config.capacity.waitTimeout,
          logger,
          signal: ctx.signal,
        })
        timings.capacityWait = Date.now() - t
      }

      const appliedKinds = appliedKindsAnnotation(existing?.metadata?.annotations?.[ANN_APPLIED_KINDS], planned)
      const everApplied = parseAppliedKinds(appliedKinds[ANN_APPLIED_KINDS])
      // In place: the live objects of every kind, listed once while the namespace and its policies
      // are applied, for the apply (what is live as the manifests say is not sent again) and the prune.
      const live = existing ? listLiveObjects(kube, ns, config.deploy.prune ? everApplied : uniqueKinds(planned)) : undefined

      const now = new Date()
      const previous = existing ? readEnvironment(existing) : undefined
      const meta = namespaceMetadata(identity, {keep, ttl: config.deploy.ttl, now, createdAt: previous?.createdAt})
      // Recorded before anything is applied, so a deploy that fails half-way still leaves every
      // kind it may have created where the next deploy's pruning looks.
      Object.assign(meta.annotations, appliedKinds)
      const pull = config.deploy.imagePullSecret ? ctx.pullCredentials : undefined
      if (config.deploy.imagePullSecret && !pull) throw new DeployError('deploy.imagePullSecret is on, but no registry credentials were passed to the deploy')
      if (pull) meta.annotations[ANN_PULL_SECRET] = 'true'
      if (secrets.length > 0) meta.annotations[ANN_APP_SECRETS] = formatSecretNames(secrets)
      step('namespace')
      progress.changed = true
      if (!existing) {
        // Create, never apply, a namespace we did not see: if someone else created one with this
        // name meanwhile, the create fails and the ownership check runs on theirs.
        try {
          // Labels only: they make it ours at once. Everything else comes with the apply below, so
          // that server-side apply owns it alone and takes it away when a later deploy drops it.
          await kube.core.createNamespace({body: {metadata: {name: ns, labels: meta.labels}}, fieldManager: FIELD_MANAGER})
          progress.deletedFresh = false
        } catch (error) {
          if (!isConflict(error)) throw new DeployError(`cannot create namespace ${ns}: ${apiMessage(error)}`, {cause: error})
          const appeared = await readNamespace(kube, ns)
          const verdict = appeared ? deployVerdict(appeared, identity.project, identity.slug, this.systemNamespace) : {ok: false as const, reason: 'it appeared and vanished meanwhile'}
          if (!verdict.ok) throw new DeployError(`refusing to deploy branch "${identity.branch}" into namespace "${ns}" created meanwhile by someone else: ${verdict.reason}`)
        }
      }
      // The config's own labels and annotations first: ours win, and the config may not name them.
      const labels = {...config.deploy.namespaceLabels, ...meta.labels}
      const annotations = {...config.deploy.namespaceAnnotations, ...meta.annotations}
      const policies = () =>
        this.applyPolicies(kube, identity, {
          quota: config.deploy.resourceQuota,
          limits: config.deploy.limitRange,
          pull,
          hadPull: existing?.metadata?.annotations?.[ANN_PULL_SECRET] === 'true',
          secrets,
          hadSecrets: parseSecretNames(existing?.metadata?.annotations?.[ANN_APP_SECRETS]),
        })
      // In place, when the namespace already records the Secrets the tool makes, the quota, limits and
      // Secrets need nothing of its update and go with it (one round trip less). Otherwise the record
      // comes first: a deploy that fails half-way leaves no Secret the next one does not know of.
      const early = existing && sameSecretRecords(existing.metadata?.annotations, meta.annotations) ? policies() : undefined
      early?.catch(() => undefined) // awaited below, after the namespace's own failure if any
      let since: Date | undefined
      try {
        // The server's clock, for telling this deploy's events from an earlier one's.
        since = appliedAt(await applyNamespace(kube, ns, labels, annotations))
      } catch (error) {
        await early?.catch(() => undefined) // nothing of this deploy still running once the lock is released
        throw error
      }
      logger.info(`${existing ? 'updated' : 'created'} namespace ${ns} (expires ${meta.annotations[EXPIRES_AT_ANNOTATION]}${keep ? ', kept for review' : ''})`)
      heartbeat = startOwnerHeartbeat(kube, ns, identity.owner, logger)
      if (!existing) {
        const ok = await waitDefaultServiceAccount(kube, ns, Date.now() + 60_000, ctx.signal)
        if (!ok) logger.warn(`the default ServiceAccount of ${ns} did not appear within 60s (is the controller-manager running?)`)
      }

      step('apply')
      t = Date.now()
      const secretVersions = await (early ?? policies())
      const versioned = withSecretVersions(planned, secretVersions)
      if (secrets.length > 0) {
        const readers = versioned.readers.length > 0 ? `; a changed value restarts the pods of ${versioned.readers.join(', ')}` : ''
        logger.info(`made ${secrets.length} Secret(s) of deploy.secrets: ${secrets.map((x) => `${x.name} (${Object.keys(x.data).length} key(s))`).join(', ')}${readers}`)
      }
      const applying = this.apply(kube, versioned.objects.map(withAppliedHash), {namespace: ns, logger, signal: ctx.signal, live})
      // The Secrets of deploy.secrets are the tool's own objects, not the manifests': never pruned.
      const kept = secrets.map((x) => ({apiVersion: 'v1', kind: 'Secret', name: x.name}))
      const toApply = versioned.objects.map(appliedRef)
      // The prune works from the same lists and deletes only once the apply succeeded.
      const pruning =
        existing && config.deploy.prune
          ? pruneRemoved(kube, {namespace: ns, kinds: everApplied, applied: [...toApply, ...kept], logger, applyDone: applying, live})
          : Promise.resolve([])
      // Both settle before either error is thrown, so no apply is still running when the lock is released.
      const [applyOutcome, pruneOutcome] = await Promise.allSettled([applying, pruning])
      if (applyOutcome.status === 'rejected') throw applyOutcome.reason
      if (pruneOutcome.status === 'rejected') throw pruneOutcome.reason
      const {applied, unchanged, sentKinds} = applyOutcome.value
      const pruned = pruneOutcome.value
      timings.apply = Date.now() - t

      step('rollout')
      t = Date.now()
      const waiter = this.options.waiter ?? new WatchRolloutWaiter(kube)
      const evaluation = await waiter.wait({namespace: ns, timeout: config.deploy.timeout, since, logger, signal: ctx.signal, sentKinds})
      timings.rollout = Date.now() - t
      timings.total = Date.now() - started
      return {
        namespace: ns,
        created: !existing,
        fresh,
        keep,
        expiresAt: meta.annotations[EXPIRES_AT_ANNOTATION],
        applied,
        unchanged,
        pruned,
        workloads: evaluation.workloads.map((w) => ({kind: w.kind, name: w.name, ready: w.ready, status: w.summary})),
        ...(capacitySlot === undefined ? {} : {capacitySlot}),
        urls: identity.urls,
        timings,
      }
    } finally {
      heartbeat?.stop()
      progress.lock = await releaseLock(lock, ns, logger)
    }
  }

  private async waitGone(kube: Kube, ns: string, timeout: number, signal: AbortSignal | undefined, stage: 'deploy' | 'cleanup'): Promise<number> {
    const goneAt = await waitNamespaceGone(kube, ns, Date.now() + timeout, signal)
    if (goneAt === undefined) {
      // The namespace controller says what holds it in its conditions (finalizers left, content it
      // could not delete, an API group it could not discover).
      const blocking = deletionBlockers(await readNamespace(kube, ns).catch(() => undefined))
      const message = `namespace ${ns} was still terminating after ${formatDuration(timeout)}${blocking.length > 0 ? `:\n${blocking.map((b) => `  ${b}`).join('\n')}` : ''}`
      const suggestions = [
        `kubectl get namespace ${ns} -o yaml   # its status.conditions say what it waits for`,
        `kubectl api-resources --verbs=list --namespaced -o name | xargs -n1 kubectl get -n ${ns} --ignore-not-found   # what is left in it`,
      ]
      throw stage === 'deploy' ? new DeployError(message, {suggestions}) : new CleanupError(message, {suggestions})
    }
    return goneAt
  }

  /**
   * The namespace's own objects from the deploy config: quota, limits, the image pull secret and the
   * Secrets of deploy.secrets. Each is removed again when the config drops it (the pull secret and
   * the Secrets only if this tool made them). Returns the resourceVersion of each Secret of deploy.secrets.
   */
  private async applyPolicies(kube: Kube, identity: EnvironmentIdentity, policies: Policies): Promise<Map<string, string>> {
    const {quota, limits, pull, hadPull, secrets, hadSecrets} = policies
    const ns = identity.namespace
    const labels = environmentLabels(identity)
    const apply = async (obj: ManifestObject): Promise<string | undefined> => {
      try {
        return (await kube.serverSideApply(obj as never)).metadata.resourceVersion as string | undefined
      } catch (error) {
        throw new DeployError(`applying ${describeObject(obj)} from deploy config failed: ${apiMessage(error)}`, {cause: error})
      }
    }
    const remove = async (kind: 'ResourceQuota' | 'LimitRange' | 'Secret', name: string) => {
      try {
        if (kind === 'ResourceQuota') await kube.core.deleteNamespacedResourceQuota({name, namespace: ns})
        else if (kind === 'LimitRange') await kube.core.deleteNamespacedLimitRange({name, namespace: ns})
        else await kube.core.deleteNamespacedSecret({name, namespace: ns})
      } catch (error) {
        if (!isNotFound(error)) throw error
      }
    }
    const hard = quota && Object.keys(quota).length > 0 ? Object.fromEntries(Object.entries(quota).map(([k, v]) => [k, String(v)])) : undefined
    const versions = new Map<string, string>()
    await Promise.all([
      hard ? apply({apiVersion: 'v1', kind: 'ResourceQuota', metadata: {name: QUOTA_NAME, namespace: ns, labels}, spec: {hard}}) : remove('ResourceQuota', QUOTA_NAME),
      limits && limits.length > 0 ? apply({apiVersion: 'v1', kind: 'LimitRange', metadata: {name: LIMIT_RANGE_NAME, namespace: ns, labels}, spec: {limits}}) : remove('LimitRange', LIMIT_RANGE_NAME),
      this.applyPullSecret(apply, remove, ns, labels, pull, hadPull),
      ...secrets.map(async (secret) => {
        const version = await apply(appSecretObject(secret, ns, labels))
        if (version) versions.set(secret.name, version)
      }),
      // Dropped from the config since the last deploy; the pull secret's name is never an app's (config check).
      ...hadSecrets.filter((name) => name !== PULL_SECRET_NAME && !secrets.some((x) => x.name === name)).map((name) => remove('Secret', name)),
    ])
    return versions
  }

  /** The Secret first: the ServiceAccount names it, and a pod created in between would lack it. */
  private async applyPullSecret(apply: (obj: ManifestObject) => Promise<unknown>, remove: (kind: 'Secret', name: string) => Promise<void>, ns: string, labels: Record<string, string>, pull: RegistryCredentials | undefined, hadPull: boolean): Promise<void> {
    if (pull) {
      const {secret, serviceAccount} = pullSecretObjects(pull, ns, labels)
      await apply(secret)
      await apply(serviceAccount)
    } else if (hadPull) {
      await apply(defaultServiceAccount(ns))
      await remove('Secret', PULL_SECRET_NAME)
    }
  }

  /**
   * Server-side apply of the objects, kind group by kind group (manifests.ts: applyOrder). With the
   * live lists of a deploy in place, an object live as its manifest says is not sent (unchanged.ts).
   */
  private async apply(
    kube: Kube,
    objects: ManifestObject[],
    {namespace, logger, signal, live}: {namespace: string; logger: Logger; signal?: AbortSignal; live?: (kind: KindRef) => Promise<LiveList>},
  ): Promise<{applied: AppliedObject[]; unchanged: number; sentKinds: Set<string>}> {
    const applied: AppliedObject[] = []
    const sentKinds = new Set<string>()
    let unchanged = 0
    for (const group of applyOrder(objects)) {
      const changed = live ? await changedOnly(group, live) : group
      for (const obj of group) if (!changed.includes(obj)) logger.debug(`unchanged ${describeObject(obj)}`)
      unchanged += group.length - changed.length
      for (const obj of changed) sentKinds.add(obj.kind)
      await mapLimit(changed, this.options.applyConcurrency ?? 16, async (obj) => {
        try {
          await kube.serverSideApply(obj as never)
        } catch (error) {
          if (!isImmutableJobError(obj, error)) {
            const suggestions = isImmutableFieldError(error) ? RECREATE_SUGGESTIONS : []
            throw new DeployError(`server-side apply of ${describeObject(obj)} failed: ${apiMessage(error)}`, {cause: error, suggestions})
          }
          await recreateJob(kube, obj, {namespace, logger, signal})
        }
        logger.debug(`applied ${describeObject(obj)}`)
      })
      applied.push(...group.map(appliedRef))
    }
    const sent = applied.length - unchanged
    logger.info(
      unchanged === 0
        ? `applied ${sent} object(s) (server-side apply, field manager shopsys-ci)`
        : `applied ${sent} object(s) (server-side apply, field manager shopsys-ci); ${unchanged} unchanged since the last deploy, not sent again`,
    )
    return {applied, unchanged, sentKinds}
  }

  /** Interrupted, the cleanup stops waiting, releases the branch lock and says whether the namespace is being deleted. */
  async cleanup(ctx: CleanupContext): Promise<CleanupResult> {
    const progress = cleanupProgress(ctx.identity.namespace)
    return reportingInterruption(ctx.signal, progress, cleanupInterruption, () => this.cleanupTracked(ctx, progress))
  }

  private async cleanupTracked(ctx: CleanupContext, progress: CleanupProgress): Promise<CleanupResult> {
    const {identity, config, logger} = ctx
    const step = stepper(progress, ctx.signal)
    const ns = identity.namespace
    const started = Date.now()
    const result = (outcome: CleanupResult['outcome'], reason: string, goneAt?: number): CleanupResult => ({
      namespace: ns,
      outcome,
      reason,
      durationMs: Date.now() - started,
      ...(goneAt === undefined ? {} : {goneAt}),
    })
    if (isProtectedNamespace(ns, this.systemNamespace)) {
      throw new CleanupError(`refusing to delete namespace "${ns}": default, kube-* and the tool's own namespace are never deleted`)
    }
    const kube = await this.kube()
    const lock = await acquireBranchLock(kube, {identity, systemNamespace: this.systemNamespace, timeout: config.deploy.lockTimeout, logger, signal: ctx.signal})
    progress.lock = 'held'
    try {
      step('check')
      const existing = await readNamespace(kube, ns)
      const releaseSlots = () =>
        releaseCapacitySlots(kube, {project: identity.project, namespace: ns, systemNamespace: this.systemNamespace}).catch((error: unknown) =>
          logger.warn(`could not free the capacity slot of ${ns}: ${(error as Error).message}`),
        )
      if (!existing) {
        await releaseSlots()
        return result('absent', `namespace ${ns} does not exist`)
      }
      const verdict = deletionVerdict(existing, identity.project, this.systemNamespace)
      if (!verdict.ok) throw new CleanupError(`refusing to delete: ${verdict.reason}`)
      const info = readEnvironment(existing)
      if (!ctx.force && !info.terminating) {
        if (info.keep) {
          return result('kept', `namespace ${ns} is kept for review until ${info.expiresAt ?? '?'} (gc deletes it then; cleanup --force deletes it now)`)
        }
        if (identity.ownerSource !== 'generated' && info.owner && info.owner !== identity.owner) {
          return result('owned-by-other-build', `namespace ${ns} belongs to build ${info.owner}, not to this one (${identity.owner}): left to that build (cleanup --force deletes it anyway)`)
        }
      }
      const timeout = ctx.timeout ?? config.deploy.timeout
      // The last point to stop without deleting: an interruption never deletes anything more.
      ctx.signal?.throwIfAborted()
      progress.deleting = true
      if (!info.terminating) {
        logger.info(`deleting namespace ${ns}`)
        await deleteNamespace(kube, ns, existing.metadata?.uid)
      } else logger.info(`namespace ${ns} is already being deleted; waiting for it to go`)
      step('wait')
      const goneAt = await this.waitGone(kube, ns, timeout, ctx.signal, 'cleanup')
      await releaseSlots()
      logger.info(`namespace ${ns} is gone (${formatDuration(Date.now() - started)})`)
      return result('deleted', `namespace ${ns} deleted`, goneAt)
    } finally {
      progress.lock = await releaseLock(lock, ns, logger)
    }
  }
}

/** Releases the branch lock; a failure is a warning (the lock expires within 30 s). */
async function releaseLock(lock: HeldLease, ns: string, logger: Logger): Promise<'released' | 'expires'> {
  try {
    await lock.release()
    return 'released'
  } catch (error) {
    logger.warn(`could not release the lock of ${ns}: ${(error as Error).message}`)
    return 'expires'
  }
}

export async function deployEnvironment(ctx: DeployContext): Promise<DeployResult> {
  return new ServerSideApplyDeployer().deploy(ctx)
}

export async function cleanupEnvironment(ctx: CleanupContext): Promise<CleanupResult> {
  return new ServerSideApplyDeployer().cleanup(ctx)
}

/** The objects of one kind group that are not live as their manifests say (unchanged.ts). */
async function changedOnly(group: ManifestObject[], live: (kind: KindRef) => Promise<LiveList>): Promise<ManifestObject[]> {
  const byKind = new Map<string, Map<string, LiveObject>>()
  for (const kind of uniqueKinds(group)) {
    const list = await live(kind)
    if (list.state === 'listed') byKind.set(kindKey(kind), new Map(list.items.map((o) => [o.metadata?.name ?? '', o])))
  }
  return group.filter((obj) => !isUnchanged(obj, byKind.get(kindKey(obj))?.get(obj.metadata.name)))
}

/** What the deploy reports, and the prune keeps, of an object it applies. */
function appliedRef(obj: ManifestObject): AppliedObject {
  return {apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, ...(obj.metadata.namespace ? {namespace: obj.metadata.namespace} : {})}
}

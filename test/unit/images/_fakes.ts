/** In-memory stand-ins for the images stage's services (types.ts), shared by the stage's unit tests. */
import {RegistryError} from '../../../src/errors.js'
import type {ImagePlan, ImagePusher, LocalImageStore, RegistryClient, StepOptions} from '../../../src/images/types.js'

export const DIGEST = (c: string) => `sha256:${c.repeat(64)}`

/** A registry that has the repositories of `existing` (path → digest, any tag; or `path:tag` → digest, that tag), or fails every lookup. */
export class FakeRegistry implements RegistryClient {
  readonly displayName = 'fake'
  readonly asked: string[] = []
  constructor(private readonly existing: Record<string, string> = {}, private readonly fail?: Error) {}
  async manifest(p: string, tag: string) {
    this.asked.push(`${p}:${tag}`)
    if (this.fail) throw this.fail
    const digest = this.existing[`${p}:${tag}`] ?? this.existing[p]
    return digest ? {exists: true, digest} : {exists: false}
  }
}

export interface FakePusherOptions {
  /** Image names whose push the registry refuses (authentication). */
  refused?: string[]
  /** A line of push output, e.g. to check redaction. */
  line?: string
  delayMs?: number
}

/** Records the references pushed, in the order the pushes started; every push gets the digest `e…`. */
export class FakePusher implements ImagePusher {
  readonly pushed: string[] = []
  constructor(private readonly options: FakePusherOptions = {}) {}
  async push(plan: ImagePlan, options?: StepOptions) {
    this.pushed.push(plan.reference)
    if (this.options.line) options?.onLine(this.options.line)
    if (this.options.delayMs) await new Promise((r) => setTimeout(r, this.options.delayMs))
    if (this.options.refused?.includes(plan.name)) {
      throw new RegistryError(`the registry refused the push of ${plan.reference} (authentication or permission)`, {
        details: `last lines of the push of "${plan.name}":\nunauthorized: authentication required`,
        suggestions: ['check DOCKER_USERNAME / DOCKER_PASSWORD and that the user may push to this repository'],
      })
    }
    return {digest: DIGEST('e')}
  }
}

/** A Docker daemon that has exactly `references`. */
export class FakeLocalImages implements LocalImageStore {
  readonly asked: string[] = []
  constructor(private readonly references: readonly string[] = []) {}
  async imageId(reference: string) {
    this.asked.push(reference)
    return this.references.includes(reference) ? DIGEST('a') : undefined
  }
}

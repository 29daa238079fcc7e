/**
 * The images stage's interfaces (skaffold style): a pure `Tagger`, an HTTP `RegistryClient`, an
 * `ImageBuilder`, an `ImagePusher` and the `LocalImageStore` of the Docker daemon. `buildImages` and
 * `pushImages` (index.ts) wire the default implementations; tests and other callers can pass their own.
 */
import type {ImageConfig} from '../config/model.js'

/** One image of the run, fully resolved before anything is built (see plan.ts). */
export interface ImagePlan {
  image: ImageConfig
  name: string
  placeholder: string
  /** `<registry>/<user>/<name>` (`<user>/<name>` on Docker Hub). */
  repository: string
  /** The repository's name inside its registry (`<user>/<name>`), for the HTTP API. */
  path: string
  tag: string
  /** `repository:tag`. */
  reference: string
  /** Absolute context directory and Dockerfile. */
  contextDir: string
  dockerfile: string
  /** Config build args plus `IMAGE_<DEP>` = reference of each dependency. */
  buildArgs: Record<string, string>
  dependsOn: string[]
}

/** `built` (and pushed with --push) by `images build`, `pushed` by `images push`, `reused` from the registry by either. */
export type ImageStatus = 'built' | 'pushed' | 'reused'

/** What the stage reports for each image (`--json`, the summary, and the manifests stage). */
export interface ImageResult {
  name: string
  placeholder: string
  repository: string
  tag: string
  reference: string
  /** `sha256:…` of the pushed (or found) manifest; absent for a local build that was not pushed. */
  digest?: string
  status: ImageStatus
  durationMs: number
}

export interface TagInput {
  image: ImageConfig
  /** The commit being built (hex). */
  commit: string
  /** Hex digest of everything the build reads (content.ts), when it was computed. */
  inputsDigest?: string
  /** References of the images this one is built from (already tagged). */
  dependencies: ReadonlyArray<{name: string; reference: string}>
  /** Extra values for `tag: template`. */
  values: Readonly<Record<string, unknown>>
}

/** Computes an image's tag. Pure: same input, same tag. */
export interface Tagger {
  tag(input: TagInput): string
}

export interface ManifestInfo {
  exists: boolean
  /** `Docker-Content-Digest` of the manifest, when the registry sent one. */
  digest?: string
}

/** The registry's HTTP API, as far as this stage needs it. */
export interface RegistryClient {
  /** How the registry is named in messages. */
  readonly displayName: string
  /** Whether `<path>:<tag>` exists, without pulling anything (`HEAD /v2/<path>/manifests/<tag>`). */
  manifest(path: string, tag: string, signal?: AbortSignal): Promise<ManifestInfo>
}

export interface StepOptions {
  /** Each line of docker's output, already redacted. */
  onLine: (line: string) => void
  signal?: AbortSignal
}

export interface BuildOptions extends StepOptions {
  /** `--cache-from` sources: earlier builds' images, in the local image store (the registry build cache, cache.ts). */
  cacheFrom?: readonly string[]
}

export interface ImageBuilder {
  /** Which strategy builds (`legacy` or `buildx`), for the log. */
  describe(): Promise<string>
  /** Builds `plan.reference` into the local image store; throws ImageBuildError. */
  build(plan: ImagePlan, labels: Record<string, string>, options: BuildOptions): Promise<void>
}

export interface ImagePusher {
  /** Pushes `plan.reference`; throws RegistryError. Resolves with the pushed manifest's digest if known. */
  push(plan: ImagePlan, options: StepOptions): Promise<{digest?: string}>
}

/** The Docker daemon's own image store, as far as `images push` needs it. */
export interface LocalImageStore {
  /** The local image ID (`sha256:…`) tagged `reference`, or undefined when the daemon has no such image. */
  imageId(reference: string, signal?: AbortSignal): Promise<string | undefined>
}

/** What the registry build cache (cache.ts) does in the Docker daemon. */
export interface CacheImageStore {
  /** `docker pull`: `missing` when the registry has no such tag; throws on any other failure. */
  pull(reference: string, signal?: AbortSignal): Promise<'pulled' | 'missing'>
  /** `docker tag source target`; throws when docker refuses. */
  tag(source: string, target: string, signal?: AbortSignal): Promise<void>
}

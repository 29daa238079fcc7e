/**
 * Which objects a deploy in place need not send again. Server-side apply of an object that is live
 * as the manifest says changes nothing, but costs the API server a merge of managed fields each: on
 * a redeploy of the same commit that was most of the deploy's time (20 applies, 110 ms of 170).
 *
 * An object is skipped only when both hold:
 * - the manifest is the one applied last time: every applied object carries the hash of its manifest
 *   (APPLIED_HASH_ANNOTATION), so a field dropped from the manifest, which apply would remove from
 *   the live object, changes the hash;
 * - every field of the manifest is live with the same value: a field someone changed by hand
 *   (`kubectl scale`, `kubectl edit`) is set back, as apply would.
 * Anything else (a value the server normalised, `1` for `1000m`; a list with more items than the
 * manifest's; a status) counts as changed and is applied: a wrong "changed" costs a request, a wrong
 * "unchanged" would leave the environment unlike its manifests.
 */
import {createHash} from 'node:crypto'

import type {ManifestObject} from './manifests.js'

/** On every object the tool applies: the hash of its manifest (see above). */
export const APPLIED_HASH_ANNOTATION = 'shopsys-ci/applied-hash'

/** Pure: the object to apply, with the hash of everything else in it as an annotation. */
export function withAppliedHash(obj: ManifestObject): ManifestObject {
  const metadata = obj.metadata as ManifestObject['metadata'] & {annotations?: Record<string, string>}
  const {[APPLIED_HASH_ANNOTATION]: _ignored, ...annotations} = metadata.annotations ?? {}
  const unhashed = {...obj, metadata: {...metadata, annotations}}
  if (Object.keys(annotations).length === 0) delete (unhashed.metadata as {annotations?: unknown}).annotations
  const hash = createHash('sha256').update(canonicalJson(unhashed)).digest('hex').slice(0, 32)
  return {...obj, metadata: {...metadata, annotations: {...annotations, [APPLIED_HASH_ANNOTATION]: hash}}}
}

/** Pure: JSON with object keys sorted, so that the hash does not depend on their order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
    return `{${entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)).map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`
  }
  return JSON.stringify(value)
}

/**
 * Pure: is the object to apply (withAppliedHash) live as it is? `live` is the object as a list of
 * its kind returns it (without apiVersion and kind), undefined when there is none.
 */
export function isUnchanged(toApply: ManifestObject, live: unknown): boolean {
  if (live === null || typeof live !== 'object') return false
  const hash = (toApply.metadata as {annotations?: Record<string, string>}).annotations?.[APPLIED_HASH_ANNOTATION]
  const liveHash = (live as {metadata?: {annotations?: Record<string, string>}}).metadata?.annotations?.[APPLIED_HASH_ANNOTATION]
  if (!hash || hash !== liveHash) return false
  const {apiVersion: _apiVersion, kind: _kind, ...fields} = toApply
  return isLiveAs(fields, live)
}

/**
 * Pure: does `live` have every field of `wanted` with the same value? Maps may have more keys
 * (defaults, others' labels); lists must have as many items, each live as wanted.
 */
export function isLiveAs(wanted: unknown, live: unknown): boolean {
  if (Array.isArray(wanted)) return Array.isArray(live) && live.length === wanted.length && wanted.every((item, i) => isLiveAs(item, live[i]))
  if (wanted !== null && typeof wanted === 'object') {
    if (live === null || typeof live !== 'object' || Array.isArray(live)) return false
    return Object.entries(wanted as Record<string, unknown>).every(([key, value]) => value === undefined || isLiveAs(value, (live as Record<string, unknown>)[key]))
  }
  return wanted === live
}

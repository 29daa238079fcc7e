/** Runs real kustomize (`kubectl kustomize DIR` or a `kustomize` binary) and checks what it produced. */
import path from 'node:path'
import {parseAllDocuments} from 'yaml'

import {ManifestError, ToolError} from '../errors.js'
import {run, tail} from '../util/process.js'

export async function kustomizeBuild(binary: string, dir: string): Promise<string> {
  const isKubectl = path.basename(binary) === 'kubectl'
  const args = isKubectl ? ['kustomize', dir] : ['build', dir]
  let result
  try {
    result = await run(binary, args)
  } catch (error) {
    if (error instanceof ToolError) {
      throw new ManifestError(`kustomize: ${binary} was not found`, {
        suggestions: [
          'install kubectl (it includes kustomize), or a kustomize binary and set `kustomize.binary` in the config',
          'Debian/Ubuntu: apt-get install kubectl (from the Kubernetes apt repository); or download kustomize from its releases',
        ],
      })
    }
    throw error
  }
  if (result.exitCode !== 0) {
    throw new ManifestError(`kustomize failed (${binary} ${args.join(' ')}, exit ${result.exitCode}):\n${tail(result.stderr, 30)}`, {
      suggestions: ['check the kustomization files named above; the generated overlay is kept for inspection in ' + dir],
    })
  }
  return result.stdout
}

export interface ManifestSummary {
  documents: number
  /** `Kind/name` of every document, in order. */
  objects: string[]
}

/**
 * Every document must be a Kubernetes object (apiVersion, kind, metadata.name) and no Handlebars
 * placeholder may be left anywhere: the original system applied whatever `sed` left behind.
 */
export function checkManifests(text: string, file: string): ManifestSummary {
  const problems: string[] = []
  const objects: string[] = []
  text.split('\n').forEach((line, i) => {
    if (line.includes('{{')) problems.push(`line ${i + 1}: unrendered placeholder: ${line.trim()}`)
  })
  const docs = parseAllDocuments(text)
  if (!Array.isArray(docs)) throw new ManifestError(`${file}: could not be parsed as YAML`)
  docs.forEach((doc, i) => {
    if (doc.errors.length > 0) {
      problems.push(`document ${i + 1}: ${doc.errors[0].message.split('\n')[0]}`)
      return
    }
    const obj = doc.toJS() as {apiVersion?: unknown; kind?: unknown; metadata?: {name?: unknown}} | null
    if (obj === null) return
    const missing = [!obj.apiVersion && 'apiVersion', !obj.kind && 'kind', !obj.metadata?.name && 'metadata.name'].filter(Boolean)
    if (missing.length > 0) problems.push(`document ${i + 1} (${String(obj.kind ?? 'no kind')}): missing ${missing.join(', ')}`)
    else objects.push(`${String(obj.kind)}/${String(obj.metadata!.name)}`)
  })
  if (objects.length === 0 && problems.length === 0) problems.push('kustomize produced no objects')
  if (problems.length > 0) {
    throw new ManifestError(`${file}: the rendered manifests are not valid:\n${problems.map((p) => `  - ${p}`).join('\n')}`)
  }
  return {documents: objects.length, objects}
}

/** Runs real kustomize (`kubectl kustomize DIR` or a `kustomize` binary) and checks what it produced. */
import path from 'node:path'

import {ManifestError, ToolError} from '../errors.js'
import {run, tail} from '../util/process.js'
import {type ManifestObject, parseManifests} from './parse.js'

/** `kubectl kustomize DIR` or `kustomize build DIR`. */
export function kustomizeArgs(binary: string, dir: string): string[] {
  return path.basename(binary) === 'kubectl' ? ['kustomize', dir] : ['build', dir]
}

export async function kustomizeBuild(binary: string, dir: string): Promise<string> {
  const args = kustomizeArgs(binary, dir)
  let result
  try {
    result = await run(binary, args)
  } catch (error) {
    // A missing tool is the agent's problem, exit 3 like a missing docker (docs/troubleshooting.md), not the manifests'.
    if (error instanceof ToolError) {
      throw new ToolError(`kustomize: ${binary} was not found`, {
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
      suggestions: [
        'kustomize\'s message above says which patch, resource or file it could not use: a patch or its target comes from kustomize.patches, a resource from the app\'s overlay (kustomize.base)',
        `the overlay shopsys-ci generated is kept for inspection: ${dir}/kustomization.yaml (run \`${[binary, ...args].join(' ')}\` to see the error again)`,
      ],
    })
  }
  return result.stdout
}

export interface ManifestSummary {
  /** `Kind/name` of every object, in order (the items of a `List` one by one). */
  objects: string[]
  /** The objects themselves, as `deploy` reads them from the file. */
  manifests: ManifestObject[]
}

/** Go template actions that are a bare word, so they look like a Handlebars variable. */
const GO_TEMPLATE_KEYWORDS = new Set(['end', 'else', 'break', 'continue'])

/**
 * The `{{…}}` of `line` that are placeholders of the original's `sed` (`{{FIRST_DOMAIN_HOSTNAME}}`)
 * or of Handlebars (`{{ hosts.first }}`, `{{json hosts.first}}`, `{{#if x}}`, `{{/if}}`): words and
 * dotted paths only. Go and Prometheus template actions, which ConfigMaps legitimately carry
 * (`{{ .Values.x }}`, `{{ $labels.instance }}`, `{{ printf "%s" . }}`, `{{ end }}`, Go comments),
 * are not placeholders.
 */
export function unrenderedPlaceholders(line: string): string[] {
  const found: string[] = []
  for (const match of line.matchAll(/\{\{\{?~?(.*?)~?\}?\}\}/g)) {
    const expression = match[1].trim()
    const block = /^[#^>/](?!\*)/.test(expression)
    const words = (block ? expression.slice(1) : expression).trim().split(/\s+/)
    const handlebarsLike = words.every((w) => /^[A-Za-z_@][\w.@-]*$/.test(w))
    if (handlebarsLike && (block || !GO_TEMPLATE_KEYWORDS.has(words[0]))) found.push(match[0])
  }
  return found
}

/**
 * What `render` checks in kustomize's output before writing it: the structure of every object (the
 * same parser `deploy` reads the file with) and, here only, that no placeholder is left anywhere:
 * the original system applied whatever `sed` left behind. `source` names the output in the
 * message: it is not written anywhere when it fails.
 */
export function checkManifests(text: string, source: string): ManifestSummary {
  const placeholders: string[] = []
  text.split('\n').forEach((line, i) => {
    const found = unrenderedPlaceholders(line)
    if (found.length > 0) placeholders.push(`line ${i + 1}: unrendered placeholder ${found.join(', ')}: ${line.trim()}`)
  })
  const objects = parseManifests(text, source, {
    problems: placeholders,
    suggestions: [
      'the objects come from the app\'s overlay (kustomize.base) and the configured patches: fix them there',
      'run that command to see the whole output (the line and document numbers refer to it)',
    ],
  })
  return summarize(objects)
}

/** Pure: the summary of objects already parsed and checked. */
export function summarize(manifests: ManifestObject[]): ManifestSummary {
  return {objects: manifests.map((o) => `${o.kind}/${o.metadata.name}`), manifests}
}

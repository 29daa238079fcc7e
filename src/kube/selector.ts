/** Pure: phase targets (`deployment/x`, `statefulset/x`, `a=b,c=d`) and Kubernetes label selectors. */
import {UsageError} from '../errors.js'

export type PhaseTarget =
  | {kind: 'Deployment' | 'StatefulSet' | 'DaemonSet'; name: string}
  | {kind: 'selector'; selector: string}

const KINDS: Record<string, 'Deployment' | 'StatefulSet' | 'DaemonSet'> = {
  deployment: 'Deployment',
  deploy: 'Deployment',
  deployments: 'Deployment',
  statefulset: 'StatefulSet',
  sts: 'StatefulSet',
  statefulsets: 'StatefulSet',
  daemonset: 'DaemonSet',
  ds: 'DaemonSet',
  daemonsets: 'DaemonSet',
}

const dnsName = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/
// key: optional DNS prefix + "/" + name; value: up to 63 of [A-Za-z0-9_.-].
const labelKey = /^([a-z0-9]([-a-z0-9.]*[a-z0-9])?\/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/
const labelValue = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/

export function parsePhaseTarget(target: string): PhaseTarget {
  const text = target.trim()
  const slash = /^([a-z]+)\/([^=,\s]+)$/.exec(text)
  if (slash && KINDS[slash[1]]) {
    if (!dnsName.test(slash[2])) throw new UsageError(`phase target "${target}": "${slash[2]}" is not a valid object name`)
    return {kind: KINDS[slash[1]], name: slash[2]}
  }
  if (text.includes('=') || text.includes('!') || /\s(in|notin)\s/.test(text)) {
    parseSelector(text) // validates
    return {kind: 'selector', selector: text}
  }
  throw new UsageError(`phase target "${target}" is neither deployment/<name>, statefulset/<name>, daemonset/<name> nor a label selector like app=web,tier=php`)
}

export type Requirement =
  | {key: string; op: '=' | '!='; value: string}
  | {key: string; op: 'in' | 'notin'; values: string[]}
  | {key: string; op: 'exists' | '!exists'}

/** Parses the equality- and set-based selector syntax (`a=b,c!=d,e in (x,y),f,!g`). */
export function parseSelector(text: string): Requirement[] {
  const parts: string[] = []
  let depth = 0
  let current = ''
  for (const ch of text) {
    if (ch === '(') depth++
    if (ch === ')') depth--
    if (ch === ',' && depth === 0) {
      parts.push(current)
      current = ''
    } else current += ch
  }
  parts.push(current)
  const reqs: Requirement[] = []
  for (const raw of parts) {
    const part = raw.trim()
    if (!part) continue
    let m: RegExpExecArray | null
    const bad = (why: string) => new UsageError(`label selector "${text}": ${why} in "${part}"`)
    if ((m = /^(\S+?)\s*(==|=|!=)\s*(\S*)$/.exec(part))) {
      if (!labelKey.test(m[1])) throw bad('invalid key')
      if (!labelValue.test(m[3])) throw bad('invalid value')
      reqs.push({key: m[1], op: m[2] === '!=' ? '!=' : '=', value: m[3]})
    } else if ((m = /^(\S+)\s+(in|notin)\s*\(([^)]*)\)$/.exec(part))) {
      if (!labelKey.test(m[1])) throw bad('invalid key')
      const values = m[3].split(',').map((v) => v.trim()).filter(Boolean)
      if (values.some((v) => !labelValue.test(v))) throw bad('invalid value')
      reqs.push({key: m[1], op: m[2] as 'in' | 'notin', values})
    } else if ((m = /^!\s*(\S+)$/.exec(part))) {
      if (!labelKey.test(m[1])) throw bad('invalid key')
      reqs.push({key: m[1], op: '!exists'})
    } else if (labelKey.test(part)) {
      reqs.push({key: part, op: 'exists'})
    } else {
      throw bad('cannot parse')
    }
  }
  if (reqs.length === 0) throw new UsageError(`label selector "${text}" is empty`)
  return reqs
}

/** `spec.selector` of a workload. */
export interface LabelSelectorLike {
  matchLabels?: Record<string, string>
  matchExpressions?: Array<{key: string; operator: string; values?: string[]}>
}

/** The string form of a LabelSelector, for `labelSelector=` query parameters. */
export function selectorToString(selector: LabelSelectorLike | undefined): string {
  const parts: string[] = []
  for (const [k, v] of Object.entries(selector?.matchLabels ?? {})) parts.push(`${k}=${v}`)
  for (const e of selector?.matchExpressions ?? []) {
    switch (e.operator) {
      case 'In':
        parts.push(`${e.key} in (${(e.values ?? []).join(',')})`)
        break
      case 'NotIn':
        parts.push(`${e.key} notin (${(e.values ?? []).join(',')})`)
        break
      case 'Exists':
        parts.push(e.key)
        break
      case 'DoesNotExist':
        parts.push(`!${e.key}`)
        break
    }
  }
  return parts.join(',')
}

/** Does a workload's selector select these labels? An empty selector selects nothing (like the controllers). */
export function selectorMatches(selector: LabelSelectorLike | undefined, labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  const ml = Object.entries(selector?.matchLabels ?? {})
  const me = selector?.matchExpressions ?? []
  if (ml.length === 0 && me.length === 0) return false
  for (const [k, v] of ml) if (l[k] !== v) return false
  for (const e of me) {
    const has = Object.hasOwn(l, e.key)
    const values = e.values ?? []
    if (e.operator === 'In' && !(has && values.includes(l[e.key]))) return false
    if (e.operator === 'NotIn' && has && values.includes(l[e.key])) return false
    if (e.operator === 'Exists' && !has) return false
    if (e.operator === 'DoesNotExist' && has) return false
  }
  return true
}

/** Does a parsed selector (from a phase target) select these labels? */
export function requirementsMatch(reqs: Requirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {}
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key)
    switch (r.op) {
      case '=':
        return l[r.key] === r.value
      case '!=':
        return l[r.key] !== r.value
      case 'in':
        return has && r.values.includes(l[r.key])
      case 'notin':
        return !has || !r.values.includes(l[r.key])
      case 'exists':
        return has
      case '!exists':
        return !has
    }
  })
}

/**
 * Parses `WWW-Authenticate` (RFC 9110 §11.6.1): one or more comma-separated challenges, each a
 * scheme followed by either a token68 or `name=value` / `name="quoted value"` parameters, e.g.
 *
 *   Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"
 *   Basic realm="registry"
 */

export interface Challenge {
  /** Lower-cased: `basic`, `bearer`. */
  scheme: string
  /** Parameter names lower-cased; values unquoted. */
  params: Record<string, string>
  token68?: string
}

const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+"
// Values: a quoted string, or (leniently; RFC says token) anything up to a comma or space.
const PARAM = new RegExp(`^(${TOKEN})[ \\t]*=[ \\t]*("(?:[^"\\\\]|\\\\.)*"|[^\\s,"=][^\\s,"]*)?$`)
const SCHEME_AND_REST = new RegExp(`^(${TOKEN})(?:[ \\t]+(.*))?$`, 's')
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/

export function parseWwwAuthenticate(header: string | null | undefined): Challenge[] {
  if (!header) return []
  const challenges: Challenge[] = []
  let current: Challenge | undefined
  for (const raw of splitOutsideQuotes(header)) {
    const item = raw.trim()
    if (item === '') continue
    const param = PARAM.exec(item)
    if (param && current && current.token68 === undefined) {
      current.params[param[1].toLowerCase()] = unquote(param[2] ?? '')
      continue
    }
    const m = SCHEME_AND_REST.exec(item)
    if (!m) continue // malformed piece: ignore it, as browsers do
    current = {scheme: m[1].toLowerCase(), params: {}}
    challenges.push(current)
    const rest = m[2]?.trim()
    if (!rest) continue
    const first = PARAM.exec(rest)
    if (first) current.params[first[1].toLowerCase()] = unquote(first[2] ?? '')
    else if (TOKEN68.test(rest)) current.token68 = rest
  }
  return challenges
}

/** The first challenge with the given scheme. */
export function findChallenge(challenges: readonly Challenge[], scheme: 'basic' | 'bearer'): Challenge | undefined {
  return challenges.find((c) => c.scheme === scheme)
}

function splitOutsideQuotes(s: string): string[] {
  const parts: string[] = []
  let start = 0
  let quoted = false
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]
    if (quoted && ch === '\\') i++
    else if (ch === '"') quoted = !quoted
    else if (ch === ',' && !quoted) {
      parts.push(s.slice(start, i))
      start = i + 1
    }
  }
  parts.push(s.slice(start))
  return parts
}

function unquote(value: string): string {
  if (!value.startsWith('"')) return value
  return value.slice(1, -1).replace(/\\(.)/g, '$1')
}

/**
 * `.dockerignore`, matched the way docker does it (moby/patternmatcher and the context walk in
 * moby's archive package), so the content digest covers exactly the files a build can read:
 *
 * - lines starting with `#` are comments; lines are trimmed; empty lines are skipped;
 * - patterns are cleaned like Go's `filepath.Clean`, a leading `/` is dropped;
 * - `*` matches within one path segment, `?` one character, `[...]` a class, `\` escapes,
 *   `**` any number of segments (including none);
 * - a pattern matches a path or any of its parent directories;
 * - `!pattern` re-includes; the last matching pattern wins;
 * - an excluded directory is not entered unless an exception pattern could match inside it.
 */

export interface IgnorePattern {
  /** The cleaned pattern, without `!`. */
  pattern: string
  exclusion: boolean
  regexp: RegExp
}

const UTF8_BOM = '\uFEFF'

/** Parses the text of a `.dockerignore` file into cleaned patterns (`!` kept as prefix). */
export function parseDockerignore(text: string): string[] {
  const out: string[] = []
  const lines = text.split(/\r?\n/)
  lines.forEach((raw, i) => {
    let line = i === 0 && raw.startsWith(UTF8_BOM) ? raw.slice(1) : raw
    if (line.startsWith('#')) return
    line = line.trim()
    if (line === '') return
    const invert = line.startsWith('!')
    if (invert) line = line.slice(1).trim()
    if (line.length > 0) {
      line = cleanPath(line)
      if (line.length > 1 && line.startsWith('/')) line = line.slice(1)
    }
    out.push(invert ? `!${line}` : line)
  })
  return out
}

/** Go's `path.Clean`: collapses `//`, `.` and `..` segments. */
export function cleanPath(p: string): string {
  if (p === '') return '.'
  const rooted = p.startsWith('/')
  const out: string[] = []
  for (const segment of p.split('/')) {
    if (segment === '' || segment === '.') continue
    if (segment === '..') {
      if (out.length > 0 && out[out.length - 1] !== '..') out.pop()
      else if (!rooted) out.push('..')
      continue
    }
    out.push(segment)
  }
  const joined = out.join('/')
  if (rooted) return `/${joined}`
  return joined === '' ? '.' : joined
}

const REGEXP_SPECIAL = new Set(['.', '+', '(', ')', '|', '{', '}', '$', '^'])

/** Compiles one cleaned pattern (without `!`) to an anchored regular expression. */
export function compilePattern(pattern: string): RegExp {
  let re = '^'
  const chars = [...pattern]
  for (let i = 0; i < chars.length; i++) {
    const ch = chars[i]
    if (ch === '*') {
      if (chars[i + 1] === '*') {
        i++
        // `**/` is `**`: eat the slash.
        if (chars[i + 1] === '/') i++
        // `**` at the end matches everything below; elsewhere any number of segments (even none).
        re += i + 1 >= chars.length ? '.*' : '(.*/)?'
      } else {
        re += '[^/]*'
      }
    } else if (ch === '?') {
      re += '[^/]'
    } else if (ch === '\\') {
      if (i + 1 < chars.length) {
        i++
        re += escapeChar(chars[i])
      } else {
        re += '\\\\'
      }
    } else if (ch === '[') {
      // A class: copied through, with `!` negation as in Go's filepath.Match.
      let j = i + 1
      let cls = '['
      if (chars[j] === '!' || chars[j] === '^') {
        cls += '^'
        j++
      }
      let closed = false
      for (; j < chars.length; j++) {
        if (chars[j] === ']' && cls.length > (cls.endsWith('^') ? 2 : 1)) {
          closed = true
          break
        }
        if (chars[j] === '\\' && j + 1 < chars.length) {
          j++
          cls += `\\${chars[j]}`
        } else if (chars[j] === '[' || chars[j] === ']') {
          cls += `\\${chars[j]}`
        } else {
          cls += chars[j]
        }
      }
      if (closed) {
        re += `${cls}]`
        i = j
      } else {
        re += '\\['
      }
    } else {
      re += escapeChar(ch)
    }
  }
  return new RegExp(`${re}$`, 'u')
}

function escapeChar(ch: string): string {
  return REGEXP_SPECIAL.has(ch) || ch === '\\' || ch === '[' || ch === ']' || ch === '*' || ch === '?' ? `\\${ch}` : ch
}

export class DockerignoreMatcher {
  readonly patterns: IgnorePattern[]

  constructor(lines: readonly string[]) {
    this.patterns = lines
      .map((line) => {
        const exclusion = line.startsWith('!')
        const pattern = exclusion ? line.slice(1) : line
        return {pattern, exclusion, regexp: compilePattern(pattern)}
      })
      .filter((p) => p.pattern !== '')
  }

  static fromText(text: string): DockerignoreMatcher {
    return new DockerignoreMatcher(parseDockerignore(text))
  }

  get hasExclusions(): boolean {
    return this.patterns.some((p) => p.exclusion)
  }

  /** Whether `file` (a `/`-separated path relative to the context) is excluded from the context. */
  matches(file: string): boolean {
    let matched = false
    const parent = dirname(file)
    const parentDirs = parent === '.' ? [] : parent.split('/')
    for (const p of this.patterns) {
      // An inclusion cannot change an already-matched path, an exception an unmatched one.
      if (p.exclusion !== matched) continue
      let match = p.regexp.test(file)
      if (!match) {
        for (let i = 1; i <= parentDirs.length && !match; i++) match = p.regexp.test(parentDirs.slice(0, i).join('/'))
      }
      if (match) matched = !p.exclusion
    }
    return matched
  }

  /**
   * For an excluded directory: whether an exception pattern could re-include something inside it,
   * so the walk must enter it. Docker's legacy context walk only enters for exceptions that start
   * with the directory's path; BuildKit also follows wildcards. We enter in both cases: a file too
   * many in the digest costs at most a rebuild, a file too few would reuse a stale image.
   */
  mayReincludeBelow(dir: string): boolean {
    const dirSegments = dir.split('/')
    return this.patterns.some((p) => p.exclusion && couldMatchBelow(p.pattern.split('/'), 0, dirSegments, 0))
  }
}

function couldMatchBelow(pattern: string[], i: number, dir: string[], j: number): boolean {
  if (j === dir.length) return true
  if (i === pattern.length) return false
  if (pattern[i] === '**') return couldMatchBelow(pattern, i + 1, dir, j) || couldMatchBelow(pattern, i, dir, j + 1)
  return compilePattern(pattern[i]).test(dir[j]) && couldMatchBelow(pattern, i + 1, dir, j + 1)
}

function dirname(p: string): string {
  const i = p.lastIndexOf('/')
  return i === -1 ? '.' : p.slice(0, i)
}

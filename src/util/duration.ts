/** Durations in config and flags: `90s`, `10m`, `24h`, `7d`, combinations like `1h30m`, or plain seconds. */

const UNITS: Record<string, number> = {ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000}

export function parseDuration(text: string): number | undefined {
  const s = text.trim()
  if (/^\d+$/.test(s)) return Number(s) * 1000
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/gy
  let total = 0
  let matched = 0
  for (const m of s.matchAll(re)) {
    total += Number(m[1]) * UNITS[m[2]]
    matched += m[0].length
  }
  return matched === s.length && matched > 0 ? Math.round(total) : undefined
}

export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`
  const m = Math.floor(ms / 60_000)
  const s = Math.round((ms % 60_000) / 1000)
  if (m < 60) return s ? `${m}m${s}s` : `${m}m`
  const h = Math.floor(m / 60)
  return m % 60 ? `${h}h${m % 60}m` : `${h}h`
}

/** `in 5m` for a time ahead, `5m ago` for one past (`ms` from now). */
export function formatRelative(ms: number): string {
  return ms >= 0 ? `in ${formatDuration(ms)}` : `${formatDuration(-ms)} ago`
}

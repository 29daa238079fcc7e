/**
 * The last guard of "no secret in any log": every line the CLI prints, its error and its JSON pass
 * through one of these, whatever path the text took (a config value quoted in an error, an API's
 * message, a child's output). Longest secrets first, so one that contains another goes whole.
 */
export type Redact = (text: string) => string

export function redactor(secrets: readonly string[]): Redact {
  const values = [...new Set(secrets.filter((s) => s.length > 0))].sort((a, b) => b.length - a.length)
  if (values.length === 0) return (text) => text
  return (text) => values.reduce((out, secret) => out.split(secret).join('***'), text)
}

/** Pure: `value` with `redact` applied to every string in it (a command's JSON result). */
export function redactDeep<T>(value: T, redact: Redact): T {
  if (value === undefined) return value
  return JSON.parse(JSON.stringify(value, (_key, v: unknown) => (typeof v === 'string' ? redact(v) : v))) as T
}

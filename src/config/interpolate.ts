/**
 * `${VAR}` and `${VAR:-default}` references to environment variables in config values.
 * `$${` stands for a literal `${`. An unset variable without a default is a problem, never "".
 */

const REFERENCE = /\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}/g

export function interpolateEnv(
  value: string,
  env: Readonly<Record<string, string | undefined>>,
  report: (message: string) => void,
): string {
  return value.replace(REFERENCE, (match, name: string | undefined, fallback: string | undefined) => {
    if (match === '$${') return '${'
    const set = env[name!]
    if (set !== undefined && set !== '') return set
    if (fallback !== undefined) return fallback
    report(`environment variable ${name} is not set (referenced as ${match}; give a default with \${${name}:-value})`)
    return ''
  })
}

/**
 * Pure: the totals of a JUnit XML report, for the build's summary (Jenkins' own junit step shows
 * the details): the root `<testsuites>` if it has totals, else the sum of the outermost
 * `<testsuite>` elements. Read with patterns, not a parser: only these attributes are needed, and
 * a file that is not a JUnit report gives undefined.
 */
export interface TestTotals {
  tests: number
  failures: number
  errors: number
  skipped: number
}

const ATTRIBUTES = ['tests', 'failures', 'errors', 'skipped'] as const

function totalsOf(tag: string): TestTotals | undefined {
  const value = (name: string) => Number(new RegExp(`\\s${name}\\s*=\\s*["'](\\d+)["']`).exec(tag)?.[1] ?? Number.NaN)
  if (Number.isNaN(value('tests'))) return undefined
  return Object.fromEntries(ATTRIBUTES.map((a) => [a, Number.isNaN(value(a)) ? 0 : value(a)])) as unknown as TestTotals
}

export function junitTotals(xml: string): TestTotals | undefined {
  const root = /<testsuites\b[^>]*>/.exec(xml)
  const fromRoot = root ? totalsOf(root[0]) : undefined
  if (fromRoot) return fromRoot
  // The outermost <testsuite> elements only: nested ones (PHPUnit nests them) repeat their children.
  const outer: TestTotals[] = []
  let depth = 0
  for (const m of xml.matchAll(/<(\/?)testsuite\b[^>]*?(\/?)>/g)) {
    if (m[1]) {
      depth--
      continue
    }
    const totals = depth === 0 ? totalsOf(m[0]) : undefined
    if (totals) outer.push(totals)
    if (!m[2]) depth++
  }
  return outer.length > 0 ? addTotals(outer) : undefined
}

export function addTotals(all: TestTotals[]): TestTotals {
  return Object.fromEntries(ATTRIBUTES.map((a) => [a, all.reduce((sum, t) => sum + t[a], 0)])) as unknown as TestTotals
}

/** `120 tests, 3 failed, 1 skipped` (failures and errors together). */
export function formatTotals(t: TestTotals): string {
  const failed = t.failures + t.errors
  return [`${t.tests} test${t.tests === 1 ? '' : 's'}`, ...(failed ? [`${failed} failed`] : []), ...(t.skipped ? [`${t.skipped} skipped`] : [])].join(', ')
}

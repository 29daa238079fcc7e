/** The one human summary at the end of a build: result, URLs, images, phases, time per stage. */
import {formatDuration} from '../util/duration.js'
import {formatTotals} from '../util/junit.js'
import type {BuildReport} from './build.js'

/** `reportFile` undefined: it could not be written. What a build that failed early does not know is left out. */
export function formatSummary(report: BuildReport, reportFile: string | undefined): string {
  const lines: string[] = []
  const ok = report.result === 'success'
  lines.push('', `=== shopsys-ci build ${ok ? 'SUCCEEDED' : 'FAILED'} in ${formatDuration(report.durationMs)}${report.error ? ` (${report.error.stage}, exit ${report.exitCode})` : ''}`)
  if (report.branch) lines.push(`branch     ${report.branch}`)
  if (report.namespace) lines.push(`namespace  ${report.namespace}`)
  if (report.commit) lines.push(`commit     ${report.commit}`)
  const urls = Object.entries(report.urls)
  if (urls.length > 0) {
    lines.push('urls')
    for (const [name, url] of urls) lines.push(`  ${name.padEnd(14)} ${url}`)
  }
  if (report.images.length > 0) {
    const built = report.images.filter((i) => i.status === 'built').length
    lines.push(`images     ${built} built, ${report.images.length - built} reused`)
    for (const i of report.images) lines.push(`  ${i.status.padEnd(7)} ${i.reference}${i.digest ? `@${i.digest}` : ''} (${formatDuration(i.durationMs)})`)
  }
  for (const p of report.phases) lines.push(`phase      ${p.phase}: exit ${p.exitCode}, ${p.artifacts.length} artifact(s)${p.tests ? `, ${formatTotals(p.tests)}` : ''}`)
  const pruned = report.deploy?.pruned ?? []
  if (pruned.length > 0) lines.push(`pruned     ${pruned.map((o) => `${o.kind.toLowerCase()}/${o.name}`).join(', ')} (no longer in the manifests)`)
  if (report.deploy?.keep) lines.push(`kept until ${report.deploy.expiresAt}`)
  if (report.cleanup) lines.push(`cleanup    ${report.cleanup.outcome}: ${report.cleanup.reason}`)
  if (report.stages.length > 0) lines.push('stages')
  for (const s of report.stages) lines.push(`  ${s.name.padEnd(16)} ${s.status.padEnd(6)} ${formatDuration(s.durationMs)}`)
  lines.push(`report     ${reportFile ?? 'not written (the warning above says why)'}`)
  return lines.join('\n')
}

import {Flags} from '@oclif/core'

import {CiCommand} from '../base-command.js'
import {branchFlag, namespaceFlag} from '../flags.js'
import {type BuildContext, resolveContext} from '../pipeline/context.js'

export interface NamesResult {
  project: string
  branch: string
  branchSource: string
  slug: string
  namespace: string
  hosts: Record<string, string>
  urls: Record<string, string>
}

export default class Names extends CiCommand<typeof Names> {
  static summary = 'Show the names of a branch environment: slug, namespace, hosts and URLs.'
  static description = 'Works without a config file (the original\'s hosts) and without a cluster. Without DEVELOPMENT_SERVER_DOMAIN, hosts are shown under example.test.'
  static examples = [
    '<%= config.bin %> names --branch feature/JIRA-1_Über',
    'BRANCH_NAME=main DEVELOPMENT_SERVER_DOMAIN=ci.example.com <%= config.bin %> names --json',
    '<%= config.bin %> names --urls   # one URL per line, e.g. for a Jenkins build description',
  ]
  static flags = {
    branch: branchFlag,
    namespace: namespaceFlag,
    urls: Flags.boolean({summary: 'Print only the URLs, one per line.'}),
  }

  async run(): Promise<NamesResult> {
    const ctx = await resolveContext({
      loaded: this.loadConfig({optional: true}),
      workspace: this.workspace,
      env: process.env,
      branchFlag: this.flags.branch,
      namespaceFlag: this.flags.namespace,
      domainFallback: 'example.test',
    })
    if (this.flags.urls) for (const url of Object.values(ctx.names.urls)) this.log(url)
    else this.log(formatNames(ctx))
    return {project: ctx.config.project, branch: ctx.names.branch, branchSource: ctx.branch.source, slug: ctx.names.slug, namespace: ctx.names.namespace, hosts: ctx.names.hosts, urls: ctx.names.urls}
  }
}

function formatNames(ctx: BuildContext): string {
  const rows: Array<[string, string]> = [
    ['project', ctx.config.project],
    ['branch', `${ctx.names.branch} (from ${ctx.branch.source})`],
    ['slug', ctx.names.slug],
    ['namespace', ctx.names.namespace],
    ...Object.entries(ctx.names.urls).map(([key, url]): [string, string] => [key, url]),
  ]
  const width = Math.max(...rows.map(([k]) => k.length))
  return rows.map(([k, v]) => `${k.padEnd(width)}  ${v}`).join('\n')
}

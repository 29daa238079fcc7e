/**
 * Credentials from a kubeconfig's exec plugin (EKS, GKE, AKS, OIDC logins) fail on the agent, not
 * at the API server: the plugin is not installed, its own login has expired, or it prints something
 * that is not an ExecCredential. client-node then throws the bare spawn error or the plugin's stderr,
 * which the tool reported as an unexpected error (exit 1). This names the plugin and the context.
 */
import type * as K8s from '@kubernetes/client-node'

import {ClusterCredentialError} from '../errors.js'

interface ExecUser {
  name?: string
  exec?: {command?: string; args?: string[]}
  authProvider?: {name?: string; config?: {exec?: {command?: string}}}
}

/** Pure: how the user's credentials are made, for messages (`exec plugin aws`), or undefined for static ones. */
export function credentialSource(user: ExecUser | null | undefined): string | undefined {
  const command = user?.exec?.command ?? user?.authProvider?.config?.exec?.command
  if (command) return `exec plugin ${command}`
  if (user?.authProvider?.name) return `auth provider ${user.authProvider.name}`
  return undefined
}

/** Pure: the error for a failure while the credentials were being made. */
export function credentialError(error: unknown, source: string, context: string | undefined): ClusterCredentialError {
  const e = error as NodeJS.ErrnoException
  const command = source.replace(/^exec plugin /, '')
  const notFound = e?.code === 'ENOENT' && /^spawn /.test(e.syscall ?? '')
  const notExecutable = e?.code === 'EACCES' && /^spawn /.test(e.syscall ?? '')
  const said = String(e?.message ?? error).trim().split('\n').filter(Boolean).slice(0, 5).join('\n    ')
  const problem = notFound
    ? `${command} is not installed on this agent (not found on PATH)`
    : notExecutable
      ? `${command} is not executable`
      : e instanceof SyntaxError
        ? `it printed no valid credential (${said})`
        : `it failed${said ? `:\n    ${said}` : ''}`
  const ctx = context ? ` --context ${context}` : ''
  return new ClusterCredentialError(`cannot get credentials for the cluster from the kubeconfig${context ? ` (context ${context})` : ''}: its ${source}: ${problem}`, {
    cause: error,
    suggestions: [
      notFound || notExecutable
        ? `install ${command} on the agent (or in the image the step runs in), on the PATH of the Jenkins user`
        : `the plugin's own login may have expired or lack its settings (its environment variables, a profile): renew it as the Jenkins user`,
      `kubectl${ctx} get --raw /version   # runs the same plugin with the same kubeconfig`,
    ],
  })
}

/** Wraps the kubeconfig's credential step so that a plugin's failure is a ClusterCredentialError (exit 3). */
export function explainCredentialFailures(kc: K8s.KubeConfig): void {
  const internals = kc as unknown as {applyAuthorizationHeader?: (opts: unknown) => Promise<void>}
  const apply = internals.applyAuthorizationHeader
  if (typeof apply !== 'function') return
  internals.applyAuthorizationHeader = async (opts) => {
    try {
      await apply.call(kc, opts)
    } catch (error) {
      const source = credentialSource(kc.getCurrentUser() as ExecUser | null)
      if (!source) throw error
      throw credentialError(error, source, kc.getCurrentContext() || undefined)
    }
  }
}

/**
 * Node's root certificates, and NODE_EXTRA_CA_CERTS, without their start-up cost.
 *
 * Node 20 parses its ~140 root certificates (OpenSSL 3: 35–45 ms) the first time a TLS context is
 * made, and with NODE_EXTRA_CA_CERTS set it does so, and parses the whole extra file too, before it
 * runs any JavaScript (75–80 ms on a CI agent whose file is the system bundle), for every command:
 * `names` that never connects anywhere too. So:
 *
 * - bin/shopsys-ci starts Node without NODE_EXTRA_CA_CERTS and hands the file over in
 *   SHOPSYS_CI_EXTRA_CA_CERTS; `setUpTlsTrust` puts the variable back for the children (they see
 *   the environment they were given) and makes every TLS context that trusts the default CAs (no
 *   `ca` of its own, as Node's rule for the extra file is) trust the file's certificates too, read
 *   when the first such context is made. A kubeconfig with its cluster's CA never needs them.
 * - A command that talks to the cluster has the root certificates parsed in a worker thread while
 *   the main thread loads the CLI and the cluster client: Node parses them once per process, behind
 *   a lock, so the main thread's first TLS context finds them ready on a machine with two cores.
 *
 * bin/run.js calls it first, from dist/boot.cjs. Started as `node bin/run.js` with the variable
 * set, Node has done its own start-up work, and nothing here changes anything.
 */
import createDebug from 'debug'
import {readFileSync} from 'node:fs'
import tls, {type SecureContextOptions} from 'node:tls'
import {Worker} from 'node:worker_threads'

const debug = createDebug('shopsys-ci:tls')

/** Where bin/shopsys-ci puts NODE_EXTRA_CA_CERTS's value while Node starts. */
export const DEFERRED_EXTRA_CA_CERTS = 'SHOPSYS_CI_EXTRA_CA_CERTS'

/** The commands whose first network act is a TLS connection to the cluster's API server. */
export const CLUSTER_COMMANDS: ReadonlySet<string> = new Set(['build', 'cleanup', 'deploy', 'gc', 'list', 'logs', 'run', 'status'])

export interface TlsTrustPlan {
  /** NODE_EXTRA_CA_CERTS's file, deferred by bin/shopsys-ci: added to the default CAs when first needed. */
  extraCaFile?: string
  /** Parse the root certificates in a worker now. */
  prewarmRoots: boolean
}

/**
 * Pure: what to do for a command (argv without node and the script) started with `env`. The roots
 * are only worth a worker when Node has not parsed them already (NODE_EXTRA_CA_CERTS given to Node
 * itself) and the command is about to connect to the cluster, not to show its help.
 */
export function tlsTrustPlan(argv: readonly string[], env: NodeJS.ProcessEnv): TlsTrustPlan {
  const extraCaFile = env[DEFERRED_EXTRA_CA_CERTS] || undefined
  const parsedAtStart = Boolean(env.NODE_EXTRA_CA_CERTS) && !extraCaFile
  const connects = CLUSTER_COMMANDS.has(argv[0] ?? '') && !argv.some((a) => a === '--help' || a === '-h')
  return {extraCaFile, prewarmRoots: connects && !parsedAtStart}
}

/** bin/run.js's first act: see the module comment. */
export function setUpTlsTrust(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): TlsTrustPlan {
  const plan = tlsTrustPlan(argv, env)
  if (plan.extraCaFile) {
    env.NODE_EXTRA_CA_CERTS = plan.extraCaFile
    delete env[DEFERRED_EXTRA_CA_CERTS]
    trustExtraCertificates(plan.extraCaFile)
  }
  if (plan.prewarmRoots) prewarmRootCertificates()
  return plan
}

/** The PEM certificates of a file, in order (what Node takes from NODE_EXTRA_CA_CERTS). */
export function pemCertificates(text: string): string[] {
  return text.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []
}

let installed = false

/**
 * From now on a TLS context made without `ca` trusts Node's root certificates and `file`'s, as
 * Node's own NODE_EXTRA_CA_CERTS does; one made with `ca` trusts those alone, as with Node. Every
 * TLS connection (https, http2, websockets) makes its context through `tls.createSecureContext`.
 * A file that cannot be read is warned about and left out, as Node does.
 */
export function trustExtraCertificates(file: string): void {
  if (installed) return
  installed = true
  let defaults: string[] | undefined
  const defaultCas = (): string[] => {
    if (defaults) return defaults
    let extra: string[] = []
    try {
      extra = pemCertificates(readFileSync(file, 'utf8'))
      debug('a connection trusts the default CAs: added the %d certificate(s) of NODE_EXTRA_CA_CERTS (%s)', extra.length, file)
    } catch (error) {
      process.emitWarning(`Ignoring extra certs from \`${file}\`, load failed: ${(error as Error).message}`)
    }
    defaults = [...tls.rootCertificates, ...extra]
    return defaults
  }
  debug('NODE_EXTRA_CA_CERTS (%s) deferred: read when a connection trusts the default CAs', file)
  tls.createSecureContext = withDefaultCas(tls.createSecureContext, defaultCas)
}

type CreateSecureContext = typeof tls.createSecureContext

/** The options `tls.connect` hands on that make a context what it is (the rest: host, port, ...). */
const CONTEXT_OPTIONS = ['cert', 'key', 'pfx', 'passphrase', 'ciphers', 'ecdhCurve', 'honorCipherOrder', 'minVersion', 'maxVersion', 'secureProtocol', 'secureOptions', 'sessionIdContext', 'crl', 'dhparam', 'sigalgs', 'privateKeyEngine', 'privateKeyIdentifier', 'clientCertEngine', 'ticketKeys', 'sessionTimeout'] as const

/**
 * `create` with `defaultCas()` as the `ca` of the contexts that have none. Node makes a context per
 * connection (tls.connect) and keeps its default CAs parsed once; given as `ca`, they would be
 * parsed again each time (~300 certificates), so contexts of the same plain options are made once.
 */
export function withDefaultCas(create: CreateSecureContext, defaultCas: () => string[]): CreateSecureContext {
  const made = new Map<string, tls.SecureContext>()
  return function createSecureContext(options?: SecureContextOptions) {
    if (options?.ca !== undefined) return create(options)
    const values = CONTEXT_OPTIONS.map((name) => options?.[name])
    const plain = values.every((v) => v === undefined || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean')
    if (!plain) return create({...options, ca: defaultCas()})
    const key = JSON.stringify(values)
    let context = made.get(key)
    if (!context) made.set(key, (context = create({...options, ca: defaultCas()})))
    return context
  }
}

/** Parses the root certificates in a worker thread that never holds the process. */
function prewarmRootCertificates(): void {
  try {
    // The worker's own `tls` module is Node's, untouched: it parses Node's roots and nothing else.
    const worker = new Worker("require('node:tls').createSecureContext({})", {eval: true})
    worker.on('error', (error) => debug('the worker parsing the root certificates failed: %s', error.message))
    worker.on('exit', () => debug('root certificates parsed in a worker'))
    worker.unref()
  } catch (error) {
    // only ever an optimisation
    debug('no worker for the root certificates: %s', (error as Error).message)
  }
}

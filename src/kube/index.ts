/**
 * The Kubernetes engine of shopsys-ci: deploy, phases, logs, cleanup, gc, list/status.
 *
 * Importing this module does not load `@kubernetes/client-node`; the functions that talk to the
 * cluster load it on first use (see client.ts).
 */
export type {
  AppliedObject,
  CleanupContext,
  CleanupOutcome,
  CleanupResult,
  DeployContext,
  DeployResult,
  DeployTimings,
  EnvironmentIdentity,
  LogFile,
  LogsContext,
  LogsResult,
  PhaseContext,
  PhaseResult,
  WorkloadStatusSummary,
} from './types.js'
export {cleanupEnvironment, deployEnvironment, type Deployer, type DeployerOptions, ServerSideApplyDeployer} from './deployer.js'
export {type RolloutContext, type RolloutWaiter, WatchRolloutWaiter} from './rollout.js'
export {ExecPhaseRunner, type PhaseRunner, phaseResultOf, runPhase} from './phase.js'
export {exportLogs} from './logs.js'
export {gcEnvironments, type GcContext, type GcDecision, type GcResult} from './gc.js'
export {environmentStatus, listEnvironments, type EnvironmentRow, type ListContext, type ListResult, type StatusContext, type StatusResult} from './inventory.js'
export {startEnvironmentHeartbeat} from './heartbeat.js'
export {preflightClusterAccess} from './access.js'
export {DEFAULT_SYSTEM_NAMESPACE, SYSTEM_NAMESPACE_ENV} from './constants.js'

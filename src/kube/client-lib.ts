/**
 * What the tool uses of `@kubernetes/client-node`, and nothing else. Imported instead of the
 * package's index, so that the bundler leaves out the ~60 API groups and their wrappers the tool
 * never calls (3.5 MB of the 3.6 MB chunk a command that talks to the cluster had to compile).
 */
export {
  AppsV1Api,
  AuthorizationV1Api,
  BatchV1Api,
  CoordinationV1Api,
  CoreV1Api,
  createConfiguration,
  Exec,
  HttpMethod,
  IsomorphicFetchHttpLibrary,
  KubeConfig,
  KubernetesObjectApi,
  Log,
  Observable,
  PatchStrategy,
  RequestContext,
  ResponseContext,
  ServerConfiguration,
  Watch,
} from '@kubernetes/client-node'

/**
 * Conventions (DESIGN §5): the labels and annotations that mark what shopsys-ci owns, and where a
 * build leaves its files in the workspace.
 * cleanup and gc trust only these, so every module takes the keys from here.
 */
import path from 'node:path'

export const MANAGED_BY_LABEL = 'app.kubernetes.io/managed-by'
export const MANAGED_BY_VALUE = 'shopsys-ci'
export const PROJECT_LABEL = 'shopsys-ci/project'
export const SLUG_LABEL = 'shopsys-ci/branch-slug'

export const ANNOTATION_PREFIX = 'shopsys-ci/'
export const BRANCH_ANNOTATION = 'shopsys-ci/branch'
export const COMMIT_ANNOTATION = 'shopsys-ci/commit'
export const BUILD_URL_ANNOTATION = 'shopsys-ci/build-url'
export const CREATED_AT_ANNOTATION = 'shopsys-ci/created-at'
export const EXPIRES_AT_ANNOTATION = 'shopsys-ci/expires-at'
export const OWNER_ANNOTATION = 'shopsys-ci/owner'
export const URLS_ANNOTATION = 'shopsys-ci/urls'

/**
 * Where a build leaves what Jenkins archives (report, logs, artifacts), inside the workspace; the
 * Groovy steps archive `shopsys-ci/**`.
 */
export function reportDir(workspace: string): string {
  return path.join(workspace, 'shopsys-ci')
}

/** The image pull secret the deploy makes (deploy.imagePullSecret); no Secret of the app may take its name. */
export const PULL_SECRET_NAME = 'shopsys-ci-registry'

/** The field manager of every server-side apply. */
export const FIELD_MANAGER = 'shopsys-ci'

/** Labels put on the namespace and on every object of the environment. */
export function environmentLabels(project: string, slug: string): Record<string, string> {
  return {[MANAGED_BY_LABEL]: MANAGED_BY_VALUE, [PROJECT_LABEL]: project, [SLUG_LABEL]: slug}
}

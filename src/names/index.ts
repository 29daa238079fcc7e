/** Naming (DESIGN §4): branch source, slug, namespace, hosts and URLs. */
export {branchFromJobName, resolveBranch, type BranchSource, type ResolveBranchOptions, type ResolvedBranch} from './branch.js'
export {
  computeNames,
  DNS_NAME_MAX,
  parsePort,
  urlFor,
  validateDomain,
  validateHost,
  validateNamespace,
  validatePort,
  type NameInputs,
  type Names,
} from './names.js'
export {DNS_LABEL_MAX, foldName, MIN_SLUG_LENGTH, nameHash, SLUG_HASH_LENGTH, SLUG_LETTER_PREFIX, slugify} from './slug.js'

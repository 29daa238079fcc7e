/** Flags shared by several commands. */
import {Flags} from '@oclif/core'

export const branchFlag = Flags.string({
  char: 'b',
  summary: 'Branch to work on (default: $BRANCH_NAME, else the last segment of $JOB_NAME, else the checked-out branch).',
})

export const namespaceFlag = Flags.string({
  summary: 'Use this namespace instead of the one derived from the branch (validated, never rewritten).',
})

export const ownerFlag = Flags.string({
  summary: 'Build that owns the environment (default: $BUILD_TAG, else a generated id).',
})

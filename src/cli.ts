/** The compiled CLI's entry (bin/run.js): oclif from the bundle, the same copy the commands use. */
export {execute} from '@oclif/core'

/**
 * What the compiled CLI's one module (dist/cli.cjs, loaded by bin/run.js) exports besides the
 * commands, which scripts/bundle.mjs adds as `COMMANDS` (oclif's explicit command discovery):
 * oclif's `execute` and the help class, from the same copy of oclif the commands use.
 */
export {execute} from '@oclif/core'
export {default as Help} from './help.js'

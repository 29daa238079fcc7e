#!/usr/bin/env -S node --import tsx --no-warnings
// Runs the TypeScript sources directly (no build step): for development and the tests.
// The compiled CLI finds its commands in dist/cli.cjs (package.json `oclif.commands`); here oclif
// is pointed at the command files instead, the way it finds them by pattern, and NODE_ENV=development
// makes it read src/ for dist/. The oclif manifest of an earlier npm run build must not hide a new
// or changed command, but oclif ignores loadOptions.ignoreManifest for the root plugin (this CLI
// itself), so the root plugin is loaded here with it and handed over. Unlike execute with
// development: true, this keeps stack traces out of expected errors (DEBUG=shopsys-ci* shows them).
import {execute, Plugin} from '@oclif/core'
import {readFileSync} from 'node:fs'

process.env.NODE_ENV ??= 'development'
const root = new URL('..', import.meta.url).pathname
const pjson = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'))
pjson.oclif = {...pjson.oclif, commands: './dist/commands', helpClass: './dist/help'}
const plugin = new Plugin({root, isRoot: true, ignoreManifest: true, pjson})
await plugin.load()
await execute({loadOptions: {root, pjson, plugins: new Map([[plugin.name, plugin]])}})

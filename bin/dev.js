#!/usr/bin/env -S node --import tsx --no-warnings
// Runs the TypeScript sources directly (no build step): for development and the tests.
// NODE_ENV=development makes oclif load src/commands instead of dist/commands. The oclif manifest
// of an earlier npm run build must not hide a new or changed command, but oclif ignores
// loadOptions.ignoreManifest for the root plugin (this CLI itself), so the root plugin is loaded
// here with it and handed over. Unlike execute with development: true, this keeps stack traces
// out of expected errors (DEBUG=shopsys-ci* shows them).
import {execute, Plugin} from '@oclif/core'

process.env.NODE_ENV ??= 'development'
const root = new URL('..', import.meta.url).pathname
const plugin = new Plugin({root, isRoot: true, ignoreManifest: true})
await plugin.load()
await execute({loadOptions: {root, plugins: new Map([[plugin.name, plugin]])}})

#!/usr/bin/env -S node --import tsx --no-warnings
// Runs the TypeScript sources directly (no build step): for development and the tests.
// NODE_ENV=development makes oclif load src/commands instead of dist/commands, and the manifest
// of an earlier `npm run build` is ignored so it cannot hide a new or changed command. Unlike
// `execute({development: true})` this keeps stack traces out of expected errors (DEBUG=shopsys-ci* shows them).
import {execute} from '@oclif/core'

process.env.NODE_ENV ??= 'development'
await execute({loadOptions: {root: new URL('..', import.meta.url).pathname, ignoreManifest: true}})

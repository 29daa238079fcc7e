#!/usr/bin/env -S node --import tsx --no-warnings
// Runs the TypeScript sources directly (no build step): for development and the tests.
// NODE_ENV=development makes oclif load src/commands instead of dist/commands; unlike
// `execute({development: true})` it keeps stack traces out of expected errors (DEBUG=shopsys-ci* shows them).
import {execute} from '@oclif/core'

process.env.NODE_ENV ??= 'development'
await execute({dir: import.meta.url})

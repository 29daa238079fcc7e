/**
 * Benchmark of the images stage on the example app (examples/shopsys-app; falls back to the test
 * fixture app), against the test stack's dockerd and registry. Ratios are measured side by side in
 * this one run:
 *
 * - warm / cold: the same commit again (every image reused: two HEAD requests, no docker) versus
 *   a first build of a commit (changed sources, build + push). Target ≤ 0.1.
 * - parallel / serial: a cold run with two images at once versus one after the other.
 *
 *   eval "$(test/stack/env)"; node --import tsx bench/images.ts [--runs 3]
 */
import {randomBytes} from 'node:crypto'
import {existsSync} from 'node:fs'
import {writeFile} from 'node:fs/promises'
import path from 'node:path'
import {fileURLToPath} from 'node:url'

import {loadConfig} from '../src/config/load.js'
import type {Config} from '../src/config/model.js'
import {buildImages, type ImageResult} from '../src/images/index.js'
import {MemoryLogger} from '../src/util/log.js'
import {prepareApp, type PreparedApp} from '../test/fixtures/images/prepare.js'

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const WARM_TARGET = 0.1

interface Sample {
  ms: number
  statuses: string
}

function argValue(name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  return i === -1 ? fallback : Number(process.argv[i + 1])
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = Math.floor(sorted.length / 2)
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2
}

function fmt(ms: number): string {
  return ms < 1000 ? `${ms.toFixed(0)} ms` : `${(ms / 1000).toFixed(2)} s`
}

async function main(): Promise<void> {
  const runs = argValue('--runs', 3)
  if (!process.env.SHOPSYS_CI_TEST_REGISTRY || !process.env.SHOPSYS_CI_TEST_REGISTRY_PASSWORD) {
    throw new Error('the test stack is not configured: run test/stack/up and eval "$(test/stack/env)"')
  }
  const env = {
    ...process.env,
    DOCKER_REGISTRY: process.env.SHOPSYS_CI_TEST_REGISTRY,
    DOCKER_USERNAME: process.env.SHOPSYS_CI_TEST_REGISTRY_USER,
    DOCKER_PASSWORD: process.env.SHOPSYS_CI_TEST_REGISTRY_PASSWORD,
  }

  // The example app (busybox goes to docker/ and docker/elasticsearch/), else the fixture app.
  const example = path.join(ROOT, 'examples/shopsys-app')
  let app: PreparedApp
  let label: string
  let contexts: string[]
  if (existsSync(path.join(example, '.ci/shopsys-ci.yaml'))) {
    contexts = ['docker', 'docker/elasticsearch']
    app = await prepareApp('shopsys-app', contexts, example)
    label = 'examples/shopsys-app'
  } else {
    contexts = ['php-fpm', 'elasticsearch']
    app = await prepareApp('app', contexts)
    label = 'test/fixtures/images/app'
  }
  try {
    const {config} = loadConfig({workspace: app.dir, env})
    const images = config.images.map((i) => i.name).join(', ')

    /** New sources in every image's context, as a new commit would bring. */
    const change = async () => {
      const nonce = randomBytes(8).toString('hex')
      for (const image of config.images) await writeFile(path.join(app.dir, image.context, `bench-${image.name}.txt`), nonce)
    }
    const once = async (cfg: Config, commit: string): Promise<Sample> => {
      const started = performance.now()
      const results: ImageResult[] = await buildImages({config: cfg, workspace: app.dir, env, commit, logger: new MemoryLogger(), push: true})
      return {ms: performance.now() - started, statuses: results.map((r) => r.status).join('/')}
    }
    const withParallel = (n: number): Config => ({...config, build: {...config.build, parallel: n}})

    const cold: Sample[] = []
    const warm: Sample[] = []
    const serial: Sample[] = []
    // Interleaved, so that drift of the machine affects every scenario alike.
    for (let i = 0; i < runs; i++) {
      const commit = randomBytes(20).toString('hex')
      await change()
      cold.push(await once(withParallel(2), commit))
      warm.push(await once(withParallel(2), commit))
      await change()
      serial.push(await once(withParallel(1), randomBytes(20).toString('hex')))
    }
    for (const [name, samples, want] of [['cold', cold, 'built'], ['warm', warm, 'reused'], ['serial', serial, 'built']] as const) {
      for (const s of samples) {
        if (s.statuses.split('/').some((x) => x !== want)) throw new Error(`${name} run was ${s.statuses}, expected all ${want}`)
      }
    }

    const c = median(cold.map((s) => s.ms))
    const w = median(warm.map((s) => s.ms))
    const p1 = median(serial.map((s) => s.ms))
    const rows: Array<[string, string, string]> = [
      ['cold: build + push, 2 in parallel', fmt(c), cold.map((s) => fmt(s.ms)).join(', ')],
      ['warm: same commit, all reused', fmt(w), warm.map((s) => fmt(s.ms)).join(', ')],
      ['cold: build + push, one after the other', fmt(p1), serial.map((s) => fmt(s.ms)).join(', ')],
    ]
    const width = Math.max(...rows.map((r) => r[0].length))
    console.log(`images stage — ${label} (${images}), ${runs} runs each, medians`)
    for (const [name, value, all] of rows) console.log(`  ${name.padEnd(width)}  ${value.padStart(9)}   (${all})`)
    const warmRatio = w / c
    const parallelRatio = c / p1
    console.log(`  ${'ratio warm / cold'.padEnd(width)}  ${warmRatio.toFixed(3).padStart(9)}   target ≤ ${WARM_TARGET}: ${warmRatio <= WARM_TARGET ? 'OK' : 'MISSED'}`)
    console.log(`  ${'ratio parallel / serial'.padEnd(width)}  ${parallelRatio.toFixed(3).padStart(9)}   (< 1: parallel builds pay off)`)
    if (warmRatio > WARM_TARGET) process.exitCode = 1
  } finally {
    await app.cleanup()
  }
}

await main()

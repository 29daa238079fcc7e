import {existsSync, readFileSync} from 'node:fs'
import {rm} from 'node:fs/promises'
import path from 'node:path'

import {FIXTURES_DIR} from '../../fixtures/images/prepare.js'
import {tempDir} from '../../helpers/tmp.js'

export const FAKE_DOCKER_DIR = path.join(FIXTURES_DIR, 'fake-docker')
export const FAKE_DOCKER = path.join(FAKE_DOCKER_DIR, 'docker')

export interface FakeDockerCall {
  args: string[]
  stdin: string
  env: {DOCKER_CONFIG?: string; DOCKER_BUILDKIT?: string; DOCKER_PASSWORD?: string; DOCKER_HOST?: string}
  configMode?: string
}

export interface FakeDocker {
  dir: string
  tempRoot: string
  env: Record<string, string>
  calls: () => FakeDockerCall[]
  cleanup: () => Promise<void>
}

/** A temp dir for the call log and for temporary DOCKER_CONFIGs; env to run the fake docker with. */
export async function fakeDocker(mode: Record<string, unknown> = {}): Promise<FakeDocker> {
  const dir = tempDir('shopsys-ci-fake-docker-')
  const log = path.join(dir, 'calls.jsonl')
  const tempRoot = path.join(dir, 'tmp')
  const {mkdirSync} = await import('node:fs')
  mkdirSync(tempRoot)
  return {
    dir,
    tempRoot,
    env: {PATH: `${FAKE_DOCKER_DIR}:${process.env.PATH}`, FAKE_DOCKER_LOG: log, FAKE_DOCKER_MODE: JSON.stringify(mode), DOCKER_HOST: 'unix:///fake.sock'},
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as FakeDockerCall) : []),
    cleanup: () => rm(dir, {recursive: true, force: true}),
  }
}

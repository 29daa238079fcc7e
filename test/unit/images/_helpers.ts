import {mkdir, writeFile} from 'node:fs/promises'
import path from 'node:path'

import type {Config, ImageConfig} from '../../../src/config/model.js'
import {defaultConfig} from '../../../src/config/load.js'
import {tempDir} from '../../helpers/tmp.js'

export function image(name: string, overrides: Partial<ImageConfig> = {}): ImageConfig {
  return {name, placeholder: name, context: name, dockerfile: `${name}/Dockerfile`, buildArgs: {}, tag: 'commit', dependsOn: [], ...overrides}
}

export function configWith(images: ImageConfig[], parallel = 2): Config {
  const config = defaultConfig('/tmp/app', {SHOPSYS_CI_PROJECT: 'app'})
  config.images = images
  config.build.parallel = parallel
  return config
}

export const COMMIT = '0123456789abcdef0123456789abcdef01234567'

/** A temporary workspace with a context directory and a `FROM scratch` Dockerfile per name. */
export async function workspace(names: string[]): Promise<string> {
  const ws = tempDir('shopsys-ci-build-images-')
  for (const n of names) {
    await mkdir(path.join(ws, n))
    await writeFile(path.join(ws, n, 'Dockerfile'), 'FROM scratch\n')
  }
  return ws
}

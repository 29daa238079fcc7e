import type {Config, ImageConfig} from '../../../src/config/model.js'
import {defaultConfig} from '../../../src/config/load.js'

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

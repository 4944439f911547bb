// A real, validated Config for unit tests: the minimal gateway YAML through
// parseConfig, so every default is the one the gateway would use. Extra YAML
// lines override sections (e.g. 'proof:\n  algorithms: [ES256]').

import { parseConfig } from '../../../src/config/load.js'
import type { Config } from '../../../src/config/types.js'

export const PUBLIC_ORIGIN = 'https://bob.example'

export function unitConfig(extraYaml = '', upstream = 'http://127.0.0.1:3000'): Config {
  const text = `publicOrigin: ${PUBLIC_ORIGIN}\nupstream: ${upstream}\nacl: acl.yaml\n${extraYaml}\n`
  const { config, problems } = parseConfig(text, '<unit>', {})
  if (config === undefined) throw new Error(`unitConfig: ${JSON.stringify(problems)}`)
  return config
}

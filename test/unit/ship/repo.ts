// Shared by the ship/ tests: the repository's files (read from the source
// tree, not dist/), and Helm's way of merging a values file over the chart's
// defaults, so an example is checked as Helm would see it.

import { readFileSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import YAML from 'yaml'

export const ROOT = fileURLToPath(new URL('../../../../', import.meta.url)) // dist/test/unit/ship → repository root
export const CHART = join(ROOT, 'helm/popgate')

export const readRepo = (relative: string): string => readFileSync(join(ROOT, relative), 'utf8')
export const readYamlFile = (relative: string): unknown => YAML.parse(readRepo(relative))

export const EXAMPLES = readdirSync(join(CHART, 'examples')).filter((f) => f.endsWith('.yaml')).sort()
export const TEMPLATES = readdirSync(join(CHART, 'templates')).filter((f) => /\.(yaml|tpl|txt)$/.test(f)).sort()

type Tree = Record<string, unknown>
const isMap = (v: unknown): v is Tree => typeof v === 'object' && v !== null && !Array.isArray(v)

/** Helm's coalescing: maps merge key by key, anything else (lists too) replaces, null deletes. */
export function mergeValues(base: unknown, over: unknown): unknown {
  if (!isMap(base) || !isMap(over)) return over === undefined ? base : over
  const out: Tree = { ...base }
  for (const [k, v] of Object.entries(over)) {
    if (v === null) delete out[k]
    else out[k] = mergeValues(base[k], v)
  }
  return out
}

/** values.yaml, with `patch` merged over it as `helm -f` would. */
export function valuesWith(patch: unknown): Tree {
  return mergeValues(readYamlFile('helm/popgate/values.yaml'), patch) as Tree
}

/** A deep copy with `path` (dot-separated) set to `value`. */
export function setPath(tree: unknown, path: string, value: unknown): Tree {
  const copy = structuredClone(tree) as Tree
  const keys = path.split('.')
  let node: Tree = copy
  for (const k of keys.slice(0, -1)) {
    if (!isMap(node[k])) node[k] = {}
    node = node[k] as Tree
  }
  node[keys[keys.length - 1]!] = value
  return copy
}

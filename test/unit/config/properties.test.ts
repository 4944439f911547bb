// Property-based tests for the config side's YAML loaders: parseConfig
// (src/config/load.ts), parseSecrets (src/secrets/load.ts) and the reader
// they share, readYaml (src/config/yaml-source.ts). The contract: never
// throw; a value or problems, never both; no value always comes with at
// least one problem whose file:line:col points inside the text.
//
// Inputs: arbitrary strings (printable ASCII, full Unicode, latin1 byte soup,
// YAML-token soup), random mutations of config/gateway.yaml and of a valid
// secrets file, and alias bombs.
//
// Every bug these properties found keeps its minimized input as a plain
// regression case at the end: an empty secrets document, positions drifting
// after a broken multi-line token, and deep nesting that killed the process.

import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { isDeepStrictEqual } from 'node:util'
import fc from 'fast-check'
import t from 'tap'
import { applyAll, holds, linesOf, mutationsOf, outsideText, tokenSoup, arbitraryTexts } from '../../helpers/yaml-mutation.js'
import { parseConfig } from '../../../src/config/load.js'
import { formatProblem, readYaml, type Problem } from '../../../src/config/yaml-source.js'
import { parseSecrets } from '../../../src/secrets/load.js'

/** Repository files, from dist/test/unit/ where the compiled test runs. */
const repoFile = (relative: string): string => fileURLToPath(new URL(`../../../../${relative}`, import.meta.url))

const GATEWAY_FILE = 'config/gateway.yaml'
const GATEWAY_YAML = readFileSync(repoFile(GATEWAY_FILE), 'utf8')
const SECRETS_FILE = 'secrets.yaml'
const SECRET = (c: string): string => c.repeat(43) // 43 base64url characters: 32 bytes
const SECRETS_YAML = [
  '# nonce keys, newest first',
  'nonce:',
  '  - id: n2',
  `    secret: ${SECRET('A')}`,
  `  - { id: n1, secret: ${SECRET('B')} }`,
  'tickets:',
  '  - id: t1',
  `    secret: ${SECRET('C')}`,
  'cookies: []',
  '',
].join('\n')


// ---------------------------------------------------------------- the contract, as one checker

interface Outcome { readonly value: unknown; readonly problems: readonly Problem[] }
interface Loader {
  readonly name: string
  readonly load: (text: string, file: string) => Outcome
  /** Loaders give a value or problems, never both nor neither; readYaml may give a tree with problems, or nothing for an empty document. */
  readonly exclusive: boolean
}

const configLoader: Loader = {
  name: 'parseConfig',
  load: (text, file) => { const r = parseConfig(text, file, {}); return { value: r.config, problems: r.problems } },
  exclusive: true,
}
const secretsLoader: Loader = {
  name: 'parseSecrets',
  load: (text, file) => { const r = parseSecrets(text, file); return { value: r.secrets, problems: r.problems } },
  exclusive: true,
}
const yamlLoader: Loader = {
  name: 'readYaml',
  load: (text, file) => { const r = readYaml(text, file); return { value: r.root, problems: r.problems.list } },
  exclusive: false,
}
const LOADERS = [configLoader, secretsLoader, yamlLoader] as const

/** Why `outcome` breaks the contract for `text`, or undefined. */
function violation(loader: Loader, text: string, file: string, outcome: Outcome): string | undefined {
  const { value, problems } = outcome
  if (loader.exclusive && value !== undefined && problems.length > 0) return `a value and ${problems.length} problem(s) at once`
  if (loader.exclusive && value === undefined && problems.length === 0) return 'no value and no problem'
  for (const p of problems) {
    const where = formatProblem(p)
    if (p.file !== file) return `problem names file ${JSON.stringify(p.file)}, not ${JSON.stringify(file)}: ${where}`
    if (!Number.isInteger(p.line) || !Number.isInteger(p.col) || p.line < 1 || p.col < 1) return `position not a 1-based integer pair: ${where}`
    if (typeof p.message !== 'string' || p.message.trim() === '') return `empty message: ${JSON.stringify(p)}`
    if (!where.startsWith(`${file}:${p.line}:${p.col}: `)) return `formatProblem does not start with file:line:col: ${where}`
    const outside = outsideText(text, p)
    if (outside !== undefined) return `${outside}: ${where}`
  }
  return undefined
}

/** Runs `loader` and checks the contract; throws (as fast-check predicates do) with the reason. */
function mustHold(loader: Loader, text: string, file: string): Outcome {
  let outcome: Outcome
  try {
    outcome = loader.load(text, file)
  } catch (err) {
    throw new Error(`${loader.name} threw: ${(err as Error)?.stack ?? String(err)}`)
  }
  const why = violation(loader, text, file, outcome)
  if (why !== undefined) throw new Error(`${loader.name}: ${why}`)
  return outcome
}

// ---------------------------------------------------------------- arbitrary text

const fileName = fc.oneof(
  fc.constantFrom('gateway.yaml', '/etc/popgate/gateway.yaml', 'conf dir/ü gateway.yaml', '<stdin>', 'a:b:c.yaml', 'x'),
  fc.string({ minLength: 1, maxLength: 20 }),
)

/** YAML syntax and popgate's vocabulary: random joins reach much further into the parsers than random characters. */
const TOKENS = [
  '\n', '\n', '\n', '  ', '  ', '    ', '\t', '\r\n', ': ', ': ', '- ', '-', ',', ' ', '[', ']', '{', '}', '?', ' ? ', '&a ', '*a', '&b ', '*b',
  '!!str ', '!!int ', '!!map ', '!!seq ', '!!binary ', '!custom ', '"', "'", '"\\u00', '# comment', '|', '|-', '>', '---', '...', '%YAML 1.2', '%TAG ! x',
  '<<: ', '~', 'null', 'true', 'yes', '1', '-1', '0x1F', '1e400', '.nan', '.inf', '0', '65536', '\ufeff', '\u2028', '\u0085', '\0',
  'listen', 'tls', 'publicOrigin', 'upstream', 'acl', 'admin', 'secrets', 'replay', 'nonce', 'proof', 'keys', 'dpop', 'sessions', 'cookie', 'tickets',
  'identityHeaders', 'cors', 'log', 'trustedProxies', 'timeouts', 'limits', 'file', 'store', 'url', 'ttl', 'maxAge', 'algorithms', 'resolve', 'allowPorts',
  'id', 'secret', 'enabled', 'issuers', 'jwksUri', 'level', 'origins', 'prefix',
  'https://bob.example', 'http://127.0.0.1:3000', 'redis://r:6379', '127.0.0.1:8080', '"[::1]:0"', '5s', '8KiB', '0ms', 'any', 'ES256', 'alice.test',
  '10.0.0.0/8', 'X-PoP-', './acl.yaml', SECRET('A'),
]
const yamlSoup = tokenSoup(TOKENS)
const TEXTS = arbitraryTexts('YAML token soup', TOKENS)

// ---------------------------------------------------------------- structured mutation

const scalarValue = fc.oneof(
  fc.integer().map(String),
  fc.double().map(String),
  fc.constantFrom('true', 'false', 'null', '~', '""', '.inf', '-.nan', '0o17', '0x', '1e400', '-0', 'yes', 'on'),
  fc.array(fc.oneof(fc.integer().map(String), fc.constantFrom('a', '"b"', 'null', '[]', '{}')), { maxLength: 4 }).map((a) => `[${a.join(', ')}]`),
  fc.array(fc.tuple(fc.constantFrom('a', 'b', 'file', 'listen', 'id'), fc.integer().map(String)), { maxLength: 3 })
    .map((kv) => `{${kv.map(([k, v]) => `${k}: ${v}`).join(', ')}}`),
  fc.integer({ min: 1_000, max: 20_000 }).map((n) => 'x'.repeat(n)),
  fc.string({ unit: 'binary', maxLength: 30 }).map((s) => JSON.stringify(s)),
  fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }),
)

const mutations = mutationsOf(scalarValue)

/** Where `zzz_unknown: 1` stays a top-level key: before a line that starts one, or at the end. */
function topLevelSlots(text: string): number[] {
  const lines = linesOf(text)
  return [...lines.flatMap((line, i) => (/^[A-Za-z]/.test(line) ? [i] : [])), lines.length]
}

function insertTopLevelKey(text: string, slot: number): { text: string; line: number } {
  const lines = linesOf(text)
  lines.splice(slot, 0, 'zzz_unknown: 1')
  return { text: lines.join('\n'), line: slot + 1 }
}

// ---------------------------------------------------------------- properties

t.test('the starting documents are valid (otherwise mutation results mean nothing)', async (t) => {
  const gw = parseConfig(GATEWAY_YAML, GATEWAY_FILE, {})
  t.same(gw.problems.map(formatProblem), [], 'config/gateway.yaml parses without problems')
  t.ok(gw.config, 'and gives a config')
  const s = parseSecrets(SECRETS_YAML, SECRETS_FILE)
  t.same(s.problems.map(formatProblem), [], 'the secrets document parses without problems')
  t.ok(s.secrets, 'and gives secrets')
})

t.test('the checker itself catches what it is meant to catch', async (t) => {
  const bad = (problems: Problem[], value?: unknown): string | undefined => violation(configLoader, 'a: 1\nbb: 2', 'f.yaml', { value, problems })
  const p = (line: number, col: number, extra: Partial<Problem> = {}): Problem => ({ file: 'f.yaml', line, col, path: '', message: 'x', ...extra })
  t.equal(bad([p(2, 6)]), undefined, 'a problem just past the end of a line is inside')
  t.match(bad([p(3, 1)]), /line 3 past the last/, 'a line past the end')
  t.match(bad([p(1, 6)]), /column 6 past the end of line 1/, 'a column past the end of its line')
  t.match(bad([p(0, 1)]), /1-based/, 'line 0')
  t.match(bad([p(1, 1.5)]), /1-based/, 'a fractional column')
  t.match(bad([p(1, 1, { file: 'g.yaml' })]), /names file/, 'another file')
  t.match(bad([p(1, 1, { message: ' ' })]), /empty message/, 'a blank message')
  t.match(bad([]), /no value and no problem/, 'no value, no problem')
  t.match(bad([p(1, 1)], {}), /at once/, 'a value with problems')
})

t.test('1+2: arbitrary text never throws; no value always comes with problems at real file:line:col', async (t) => {
  for (const loader of LOADERS) {
    for (const [label, text] of Object.entries(TEXTS)) {
      holds(t, `${loader.name} on ${label}`, fc.property(text, fileName, (s, file) => void mustHold(loader, s, file)), 300)
    }
  }
})

t.test('the YAML token soup is not all rejected (the generator reaches past the parser)', async (t) => {
  const samples = fc.sample(yamlSoup, { numRuns: 1_000, seed: 42 })
  const maps = samples.filter((s) => readYaml(s, 'x').root?.kind === 'map').length
  t.ok(maps > 10, `${maps} of ${samples.length} soups are YAML maps`)
})

t.test('3: mutations of config/gateway.yaml never throw; a config or problems inside the document', async (t) => {
  let accepted = 0
  let rejected = 0
  holds(t, 'parseConfig on mutated gateway.yaml', fc.property(mutations, (ms) => {
    const { value } = mustHold(configLoader, applyAll(GATEWAY_YAML, ms), GATEWAY_FILE)
    if (value === undefined) rejected++
    else accepted++
  }), 200)
  // Both outcomes must occur, or the mutations are too weak (or too strong) to say anything.
  t.ok(accepted > 0 && rejected > 0, `both outcomes seen: ${accepted} accepted, ${rejected} rejected`)
})

t.test('3: mutations of a secrets file never throw; secrets or problems inside the document', async (t) => {
  holds(t, 'parseSecrets on a mutated secrets file', fc.property(mutations, (ms) =>
    void mustHold(secretsLoader, applyAll(SECRETS_YAML, ms), SECRETS_FILE)), 300)
})

t.test('3: "zzz_unknown: 1" inserted at top level is the one problem, at its exact line', async (t) => {
  const slots = topLevelSlots(GATEWAY_YAML)
  t.ok(slots.length > 15, `${slots.length} top-level slots in gateway.yaml`)
  // Few enough slots to try every one rather than sample them.
  const wrong = slots.flatMap((slot) => {
    const { text, line } = insertTopLevelKey(GATEWAY_YAML, slot)
    const { config, problems } = parseConfig(text, GATEWAY_FILE, {})
    const p = problems[0]
    const right = config === undefined && problems.length === 1 && p !== undefined && p.path === 'zzz_unknown' && p.line === line && p.col === 1 &&
      p.message.startsWith('unknown key')
    return right ? [] : [`slot ${slot}: expected only ${GATEWAY_FILE}:${line}:1: zzz_unknown: unknown key; got ${JSON.stringify(problems.map(formatProblem))}`]
  })
  t.same(wrong, [], 'every top-level slot reports the key, alone, at its line')
})

t.test('4: the same input gives the same problems twice', async (t) => {
  const twice = (loader: Loader, text: string, file: string): void => {
    const a = mustHold(loader, text, file)
    const b = mustHold(loader, text, file)
    if (!isDeepStrictEqual(a.problems, b.problems)) throw new Error(`problems differ:\n${JSON.stringify(a.problems)}\n${JSON.stringify(b.problems)}`)
    if ((a.value === undefined) !== (b.value === undefined)) throw new Error('a value once, none the other time')
  }
  for (const loader of LOADERS) {
    holds(t, `${loader.name} on arbitrary text`, fc.property(fc.oneof(...Object.values(TEXTS)), fileName, (text, file) => twice(loader, text, file)), 100)
    holds(t, `${loader.name} on mutated documents`, fc.property(fc.boolean(), mutations, (gw, ms) =>
      twice(loader, applyAll(gw ? GATEWAY_YAML : SECRETS_YAML, ms), 'mutated.yaml')), 60)
  }
})

// ---------------------------------------------------------------- alias bombs

/** `l0: &l0 [lol × width]`, then each level `width` aliases of the one before: width^(depth+1) nodes if expanded. */
function laughs(depth: number, width: number, style: Style): string {
  const out: string[] = []
  for (let i = 0; i <= depth; i++) {
    const items = Array.from({ length: width }, () => (i === 0 ? 'lol' : `*l${i - 1}`))
    if (style === 'flow') out.push(`l${i}: &l${i} [${items.join(', ')}]`)
    else out.push(`l${i}: &l${i}`, ...items.map((it) => `  - ${it}`))
  }
  return out.join('\n') + '\n'
}

/** The same bomb as items of one flow list: `[&l0 [lol, lol], &l1 [*l0, *l0], *l1]`. */
function inlineLaughs(depth: number, width: number): string {
  const levels = Array.from({ length: depth + 1 }, (_, i) =>
    `&l${i} [${Array.from({ length: width }, () => (i === 0 ? 'lol' : `*l${i - 1}`)).join(', ')}]`)
  return `[${levels.join(', ')}, *l${depth}]`
}

type Style = 'flow' | 'block'
/** Where the bomb goes off: under unknown keys, or where the schema reads a list. */
const BOMB_PLACES: Record<string, (depth: number, width: number, style: Style) => string> = {
  'unknown top-level keys': (depth, width, style) => laughs(depth, width, style),
  'then a known list key': (depth, width, style) => `${laughs(depth, width, style)}trustedProxies: *l${depth}\n`,
  'inside keys.allowHttp of a valid config': (depth, width) =>
    `publicOrigin: https://bob.example\nupstream: http://127.0.0.1:3000\nacl: a.yaml\nkeys:\n  allowHttp: ${inlineLaughs(depth, width)}\n`,
  'as the nonce list of a secrets file': (depth, width, style) => `${laughs(depth, width, style)}nonce: *l${depth}\n`,
  'as a map fan-out': (depth) => Array.from({ length: depth + 1 }, (_, i) =>
    i === 0 ? 'm0: &m0 {a: lol, b: lol, c: lol}' : `m${i}: &m${i} {a: *m${i - 1}, b: *m${i - 1}, c: *m${i - 1}, d: *m${i - 1}}`).join('\n'),
}

t.test('5: alias bombs return quickly with a value or a problem', async (t) => {
  holds(t, 'random bombs, every loader, each under 1 s', fc.property(
    fc.integer({ min: 1, max: 12 }), fc.integer({ min: 2, max: 12 }), fc.constantFrom('flow' as const, 'block' as const),
    fc.constantFrom(...Object.keys(BOMB_PLACES)), fc.constantFrom(...LOADERS),
    (depth, width, style, place, loader) => {
      const text = BOMB_PLACES[place]!(depth, width, style)
      const started = performance.now()
      mustHold(loader, text, 'bomb.yaml')
      const ms = performance.now() - started
      if (ms >= 1_000) throw new Error(`${loader.name} took ${ms.toFixed(0)} ms`)
    }), 60)

  const quick = (name: string, text: string): void => {
    for (const loader of LOADERS) {
      const started = performance.now()
      t.doesNotThrow(() => mustHold(loader, text, `${name}.yaml`), `${loader.name}: ${name} keeps the contract`)
      t.ok(performance.now() - started < 1_000, `${loader.name}: ${name} in under 1 s`)
    }
  }
  // The classic: nine levels of ten, 10^9 "lol"s if expanded.
  quick('billion laughs', laughs(9, 10, 'flow'))
  t.ok(parseConfig(laughs(9, 10, 'flow'), 'lol.yaml', {}).problems.length > 0, 'the classic bomb is not a config, and says why')
  // One wide anchor referenced 100 times: the alias limit bounds the expansion.
  quick('wide fan-out', `a: &a [${Array(1_000).fill('x').join(', ')}]\nb: [${Array(100).fill('*a').join(', ')}]\n`)
  // An anchor that contains its own alias.
  quick('self-reference', 'a: &a [*a, *a]\n')
})

// ---------------------------------------------------------------- fixed bugs, minimized

t.test('regression: an empty secrets document says why it gives no secrets', async (t) => {
  // Minimized counterexample: ''. `popgate check` used to print "ok" while `serve` failed with no reason
  // (buildState got no secrets and no problem).
  for (const text of ['', '\n', '# only a comment\n', '\ufeff']) {
    const r = parseSecrets(text, SECRETS_FILE)
    t.equal(r.secrets, undefined, `${JSON.stringify(text)}: no secrets`)
    t.ok(r.problems.some((p) => p.file === SECRETS_FILE && p.line === 1 && p.col === 1), `${JSON.stringify(text)}: a problem at 1:1`)
    t.equal(violation(secretsLoader, text, SECRETS_FILE, { value: r.secrets, problems: r.problems }), undefined, `${JSON.stringify(text)}: keeps the contract`)
  }
})

t.test('regression: positions after a broken multi-line token stay on their line', async (t) => {
  // Minimized from a mutated gateway.yaml: the lexer folds "2\n c" into one token while recovering,
  // and yaml's LineCounter never hears of that line break; positions taken from it put the ":" at 3:3
  // at 2:8, past the end of "b: 2".
  const text = ' a:\nb: 2\n c:'
  for (const loader of LOADERS) {
    const { problems } = loader.load(text, 'drift.yaml')
    t.ok(problems.length > 0, `${loader.name}: the document is refused`)
    t.same(problems.flatMap((p) => outsideText(text, p) ?? []), [], `${loader.name}: every position inside the text`)
    t.ok(problems.some((p) => p.line === 3 && p.col === 3), `${loader.name}: the stray ":" at 3:3`)
    t.notOk(problems.some((p) => p.line === 2 && p.col > 'b: 2'.length + 1), `${loader.name}: nothing past the end of line 2`)
  }
})

t.test('regression: deep nesting does not kill the process', async (t) => {
  // Minimized: '['.repeat(850) + ']'.repeat(850), parsed twice in one process (the depth depends on the
  // stack size). The first parse reports "Maximum call stack size exceeded"; a later one aborts Node with
  // "FATAL ERROR: RegExpCompiler Allocation failed", which no try/catch sees: V8's regexp tier-up compiles
  // near the stack limit (`node --no-regexp-tier-up` survives). A config hot reload of such a file would
  // have killed the gateway. Still run in a child process, so that if the guard ever goes, this case fails
  // instead of this whole file dying.
  const depth = 2_000
  const url = (m: string): string => JSON.stringify(new URL(`../../../src/${m}`, import.meta.url).href)
  const script = [
    `const { parseConfig } = await import(${url('config/load.js')})`,
    `const { parseSecrets } = await import(${url('secrets/load.js')})`,
    `const deep = '['.repeat(${depth}) + ']'.repeat(${depth})`,
    'const out = []',
    `for (let i = 0; i < 3; i++) out.push(parseConfig(deep, 'deep.yaml', {}).problems, parseSecrets(deep, 'deep.yaml').problems)`,
    'process.stdout.write(JSON.stringify(out))',
  ].join('\n')
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  const fatal = child.stderr.split('\n').find((l) => l.includes('FATAL')) ?? child.stderr.slice(0, 200)
  t.equal(child.status, 0, `the child exits normally${fatal ? ` (${fatal})` : ''}`)
  if (child.status !== 0) return
  const text = '['.repeat(depth) + ']'.repeat(depth)
  const runs = JSON.parse(child.stdout) as Problem[][]
  t.equal(runs.length, 6, 'all six parses returned')
  for (const problems of runs) {
    t.ok(problems.length > 0 && problems.every((p) => p.file === 'deep.yaml' && outsideText(text, p) === undefined), 'each parse reports a problem inside the text')
    t.ok(problems.some((p) => /nesting/.test(p.message)), `and says why: ${JSON.stringify(problems.map((p) => p.message))}`)
  }
})

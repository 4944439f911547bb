// Property-based tests for the YAML loaders of the config side: parseConfig
// (src/config/load.ts), parseSecrets (src/secrets/load.ts) and the shared
// reader readYaml (src/config/yaml-source.ts). Their contract: never throw,
// and when no value comes back, say why with at least one problem whose
// file:line:col points inside the text the operator wrote.
//
// Inputs: arbitrary strings (printable ASCII, full Unicode, latin1 byte
// soup, YAML-token soup), random mutations of config/gateway.yaml and of a
// valid secrets file, and alias bombs. Known bugs are kept as explicit
// regression cases marked `todo` (see the end of the file); the properties
// themselves are not weakened for them, except the one documented exclusion
// in `secretsLoader`.

import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { isDeepStrictEqual } from 'node:util'
import { fileURLToPath } from 'node:url'
import fc from 'fast-check'
import t from 'tap'
import { parseConfig } from '../../src/config/load.js'
import { formatProblem, readYaml, type Problem } from '../../src/config/yaml-source.js'
import { parseSecrets } from '../../src/secrets/load.js'

/** Repository files, from dist/test/unit/ where the compiled test runs. */
const repoFile = (relative: string): string => fileURLToPath(new URL(`../../../${relative}`, import.meta.url))

const GATEWAY_FILE = 'config/gateway.yaml'
const GATEWAY_YAML = readFileSync(repoFile(GATEWAY_FILE), 'utf8')
const SECRETS_FILE = 'secrets.yaml'
const SECRET = (c: string): string => c.repeat(43) // 43 base64url characters = 32 bytes
const SECRETS_YAML = [
  '# nonce keys, newest first',
  'nonce:',
  `  - id: n2`,
  `    secret: ${SECRET('A')}`,
  `  - { id: n1, secret: ${SECRET('B')} }`,
  'tickets:',
  `  - id: t1`,
  `    secret: ${SECRET('C')}`,
  'cookies: []',
  '',
].join('\n')

// ---------------------------------------------------------------- the contract, as one checker

interface Outcome { readonly value: unknown; readonly problems: readonly Problem[] }
interface Loader {
  readonly name: string
  readonly load: (text: string, file: string) => Outcome
  /** readYaml may return nothing for an empty document without a problem; the loaders may not. */
  readonly mustExplainNoValue: boolean
  /** An input class a known bug is excused for (covered by a todo regression case below), or none. */
  readonly knownBug?: (text: string, outcome: Outcome) => boolean
}

/**
 * BUG (todo regression below): parseSecrets returns neither secrets nor a
 * problem for a document with no content ('', comments, whitespace), so
 * `popgate check` says ok and `serve` fails without a reason. Excused only
 * for exactly that class: no YAML content at all.
 */
const isEmptySecretsBug = (text: string, outcome: Outcome): boolean => {
  if (outcome.value !== undefined || outcome.problems.length > 0) return false
  const y = readYaml(text, SECRETS_FILE)
  return y.root === undefined && y.problems.ok
}

const configLoader: Loader = {
  name: 'parseConfig',
  load: (text, file) => { const r = parseConfig(text, file, {}); return { value: r.config, problems: r.problems } },
  mustExplainNoValue: true,
}
const secretsLoader: Loader = {
  name: 'parseSecrets',
  load: (text, file) => { const r = parseSecrets(text, file); return { value: r.secrets, problems: r.problems } },
  mustExplainNoValue: true,
  knownBug: isEmptySecretsBug,
}
const yamlLoader: Loader = {
  name: 'readYaml',
  load: (text, file) => { const r = readYaml(text, file); return { value: r.root, problems: r.problems.list } },
  mustExplainNoValue: false,
}
const LOADERS = [configLoader, secretsLoader, yamlLoader] as const

/** Lines as the YAML parser counts them: only LF (and CRLF) break a line; a lone CR does not. */
const linesOf = (text: string): string[] => text.split('\n')

/** Why `outcome` breaks the loader contract for `text`, or undefined. */
function violation(loader: Loader, text: string, file: string, outcome: Outcome): string | undefined {
  const { value, problems } = outcome
  if (value !== undefined && problems.length > 0) return `a value and ${problems.length} problem(s) at once`
  if (value === undefined && problems.length === 0 && loader.mustExplainNoValue && !loader.knownBug?.(text, outcome)) {
    return 'no value and no problem'
  }
  const lines = linesOf(text)
  for (const p of problems) {
    const where = JSON.stringify(p)
    if (p.file !== file) return `problem names file ${JSON.stringify(p.file)}, not ${JSON.stringify(file)}: ${where}`
    if (!Number.isInteger(p.line) || !Number.isInteger(p.col) || p.line < 1 || p.col < 1) return `position not a 1-based integer pair: ${where}`
    // The brief allows one line past the end; LF-split already counts the empty line after a final newline, so none is needed.
    if (p.line > lines.length) return `line ${p.line} past the end (${lines.length} lines): ${where}`
    if (p.col > lines[p.line - 1]!.length + 1) return `column ${p.col} past the end of line ${p.line} (${lines[p.line - 1]!.length} chars): ${where}`
    if (typeof p.message !== 'string' || p.message.trim() === '') return `empty message: ${where}`
    if (!formatProblem(p).startsWith(`${p.file}:${p.line}:${p.col}: `)) return `formatProblem does not start with file:line:col: ${formatProblem(p)}`
  }
  return undefined
}

/** Runs `loader` and checks the contract; a throw is a violation too. */
function run(loader: Loader, text: string, file: string): { outcome?: Outcome; why?: string } {
  let outcome: Outcome
  try {
    outcome = loader.load(text, file)
  } catch (err) {
    return { why: `${loader.name} threw: ${(err as Error)?.stack ?? String(err)}` }
  }
  const why = violation(loader, text, file, outcome)
  return why === undefined ? { outcome } : { outcome, why: `${loader.name}: ${why}` }
}

/** One tap assertion per property; on failure the message carries fast-check's shrunk counterexample, seed and path. */
function holds<Ts extends [unknown, ...unknown[]]>(tt: Tap, name: string, property: fc.IRawProperty<Ts, false>, numRuns: number): void {
  try {
    fc.assert(property, { numRuns })
    tt.pass(name)
  } catch (err) {
    tt.fail(`${name}\n${(err as Error).message}`)
  }
}
type Tap = Pick<typeof t, 'pass' | 'fail'>

/** The predicate form fast-check wants: throw with the reason. */
function mustHold(loader: Loader, text: string, file: string): Outcome {
  const r = run(loader, text, file)
  if (r.why !== undefined) throw new Error(r.why)
  return r.outcome!
}

// ---------------------------------------------------------------- arbitrary text

const fileName = fc.oneof(
  fc.constantFrom('gateway.yaml', '/etc/popgate/gateway.yaml', 'conf dir/ü gateway.yaml', '<stdin>', 'a:b:c.yaml', 'x'),
  fc.string({ minLength: 1, maxLength: 20 }),
)

/** Pieces of YAML syntax and of popgate's vocabulary: random joins reach much deeper into the parsers than random characters. */
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
const yamlSoup = fc.array(fc.constantFrom(...TOKENS), { maxLength: 60 }).map((parts) => parts.join(''))

const TEXTS = {
  'fc.string (printable ASCII)': fc.string({ maxLength: 200 }),
  'full Unicode (fast-check 4 has no fullUnicodeString: unit "binary")': fc.string({ unit: 'binary', maxLength: 200 }),
  'byte soup decoded as latin1': fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
  'YAML token soup': yamlSoup,
} as const

// ---------------------------------------------------------------- structured mutation

type Mutation =
  | { readonly kind: 'delete' | 'duplicate'; readonly at: number }
  | { readonly kind: 'swap'; readonly at: number; readonly other: number }
  | { readonly kind: 'indent'; readonly at: number; readonly indent: string }
  | { readonly kind: 'scalar'; readonly at: number; readonly value: string }
  | { readonly kind: 'unknownKey'; readonly at: number; readonly key: string }
  | { readonly kind: 'truncate'; readonly at: number }

/** `key: value` (also `- key: value`): the value is a scalar that can be swapped for another. */
const KEY_VALUE_LINE = /^(\s*(?:- )?[A-Za-z_][\w-]*:)[ \t]+\S/

/** A scalar of another type than whatever it replaces. */
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

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constantFrom('delete' as const, 'duplicate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
  fc.record({ kind: fc.constant('indent' as const), at: fc.nat(), indent: fc.constantFrom('', ' ', '  ', '   ', '    ', '      ', '\t', ' \t') }),
  fc.record({ kind: fc.constant('scalar' as const), at: fc.nat(), value: scalarValue }),
  fc.record({ kind: fc.constant('unknownKey' as const), at: fc.nat(), key: fc.oneof(fc.constant('zzz_unknown'), fc.stringMatching(/^[a-z][A-Za-z0-9_-]{0,12}$/)) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
)

function mutate(text: string, m: Mutation): string {
  if (m.kind === 'truncate') return text.slice(0, m.at % (text.length + 1))
  const lines = linesOf(text)
  const i = m.at % lines.length
  switch (m.kind) {
    case 'delete': lines.splice(i, 1); break
    case 'duplicate': lines.splice(i, 0, lines[i]!); break
    case 'swap': { const j = m.other % lines.length; [lines[i], lines[j]] = [lines[j]!, lines[i]!]; break }
    case 'indent': lines[i] = m.indent + lines[i]!.trimStart(); break
    case 'unknownKey': lines.splice(i, 0, `${/^\s*/.exec(lines[i]!)![0]}${m.key}: 1`); break
    case 'scalar': {
      // The first key: value line at or after i (wrapping around); a document without one is left as it is.
      for (let k = 0; k < lines.length; k++) {
        const j = (i + k) % lines.length
        const match = KEY_VALUE_LINE.exec(lines[j]!)
        if (match) { lines[j] = `${match[1]} ${m.value}`; break }
      }
      break
    }
  }
  return lines.join('\n')
}

const mutated = (base: string): fc.Arbitrary<string> =>
  fc.array(mutation, { minLength: 1, maxLength: 4 }).map((ms) => ms.reduce(mutate, base))

/** Where `zzz_unknown: 1` can go and stay a top-level key: before a line that starts a top-level key, or at the end. */
function topLevelSlots(text: string): number[] {
  const lines = linesOf(text)
  const slots = lines.flatMap((line, i) => (/^[A-Za-z]/.test(line) ? [i] : []))
  return [...slots, lines.length]
}

/** Inserts `zzz_unknown: 1` as a new line at 0-based `slot`; returns the text and the key's 1-based line. */
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

t.test('1+2: arbitrary text never throws; no value always comes with problems at real file:line:col', async (t) => {
  for (const loader of LOADERS) {
    for (const [label, text] of Object.entries(TEXTS)) {
      holds(t, `${loader.name} on ${label}`, fc.property(text, fileName, (s, file) => void mustHold(loader, s, file)), 300)
    }
  }
})

t.test('the YAML token soup is not all rejected (the generator reaches past the parser)', async (t) => {
  // Honesty check on the generator itself: some soups must be well-formed YAML maps.
  const samples = fc.sample(yamlSoup, { numRuns: 2_000, seed: 42 })
  const maps = samples.filter((s) => readYaml(s, 'x').root?.kind === 'map').length
  t.ok(maps > 20, `${maps} of ${samples.length} soups are YAML maps`)
})

t.test('3: mutations of config/gateway.yaml never throw; value or problems inside the document', async (t) => {
  let accepted = 0
  let rejected = 0
  holds(t, 'parseConfig on mutated gateway.yaml', fc.property(mutated(GATEWAY_YAML), (text) => {
    const { value } = mustHold(configLoader, text, GATEWAY_FILE)
    if (value === undefined) rejected++
    else accepted++
  }), 400)
  // Both outcomes must occur, or the mutations are too weak (or too strong) to say anything.
  t.ok(accepted > 0 && rejected > 0, `both outcomes seen: ${accepted} accepted, ${rejected} rejected`)
})

t.test('3: mutations of a secrets file never throw; value or problems inside the document', async (t) => {
  holds(t, 'parseSecrets on a mutated secrets file', fc.property(mutated(SECRETS_YAML), (text) => void mustHold(secretsLoader, text, SECRETS_FILE)), 300)
})

t.test('3: "zzz_unknown: 1" inserted at top level is the one problem, at its exact line', async (t) => {
  const slots = topLevelSlots(GATEWAY_YAML)
  t.ok(slots.length > 15, `${slots.length} top-level slots in gateway.yaml`)
  holds(t, 'unknown top-level key in gateway.yaml', fc.property(fc.constantFrom(...slots), (slot) => {
    const { text, line } = insertTopLevelKey(GATEWAY_YAML, slot)
    const { problems } = mustHold(configLoader, text, GATEWAY_FILE)
    const p = problems[0]
    if (problems.length !== 1 || p === undefined || p.path !== 'zzz_unknown' || p.line !== line || p.col !== 1 || !p.message.startsWith('unknown key')) {
      throw new Error(`expected one problem ${GATEWAY_FILE}:${line}:1: zzz_unknown: unknown key; got ${JSON.stringify(problems.map(formatProblem))}`)
    }
  }), slots.length * 2)
  // And every slot, not just the sampled ones.
  const misses = slots.filter((slot) => {
    const { text, line } = insertTopLevelKey(GATEWAY_YAML, slot)
    const ps = parseConfig(text, GATEWAY_FILE, {}).problems
    return !(ps.length === 1 && ps[0]!.path === 'zzz_unknown' && ps[0]!.line === line && ps[0]!.col === 1)
  })
  t.same(misses, [], 'every top-level slot reports the key at its line')
})

t.test('4: the same input gives the same problems twice', async (t) => {
  const anyText = fc.oneof(...Object.values(TEXTS), mutated(GATEWAY_YAML), mutated(SECRETS_YAML))
  for (const loader of LOADERS) {
    holds(t, `${loader.name} is deterministic`, fc.property(anyText, fileName, (text, file) => {
      const a = mustHold(loader, text, file)
      const b = mustHold(loader, text, file)
      if (!isDeepStrictEqual(a.problems, b.problems)) throw new Error(`problems differ:\n${JSON.stringify(a.problems)}\n${JSON.stringify(b.problems)}`)
      if ((a.value === undefined) !== (b.value === undefined)) throw new Error('a value once, none the other time')
    }), 150)
  }
})

// ---------------------------------------------------------------- alias bombs

/** `l0: &l0 [lol × width]`, then each level `width` aliases of the one before: width^depth nodes once expanded. */
function laughs(depth: number, width: number, style: 'flow' | 'block', key = (i: number) => `l${i}`): string {
  const out: string[] = []
  for (let i = 0; i <= depth; i++) {
    const items = Array.from({ length: width }, () => (i === 0 ? 'lol' : `*l${i - 1}`))
    if (style === 'flow') out.push(`${key(i)}: &l${i} [${items.join(', ')}]`)
    else out.push(`${key(i)}: &l${i}`, ...items.map((it) => `  - ${it}`))
  }
  return out.join('\n') + '\n'
}

/** Where the bomb goes off: under unknown keys, or under keys the schema reads as lists. */
const BOMB_PLACES: Record<string, (bomb: string, depth: number) => string> = {
  'unknown top-level keys': (bomb) => bomb,
  'then a known list key': (bomb, depth) => `${bomb}trustedProxies: *l${depth}\n`,
  'nested under keys.allowHttp': (bomb, depth) => `publicOrigin: https://bob.example\nupstream: http://127.0.0.1:3000\nacl: a.yaml\n` +
    bomb.replace(/^l(\d+):/gm, 'x$1:') + `keys:\n  allowHttp: *l${depth}\n`,
  'as the nonce list of a secrets file': (bomb, depth) => `${bomb}nonce: *l${depth}\n`,
  'as a map alias fan-out': (_bomb, depth) => Array.from({ length: depth + 1 }, (_, i) =>
    i === 0 ? 'm0: &m0 {a: lol, b: lol, c: lol}' : `m${i}: &m${i} {a: *m${i - 1}, b: *m${i - 1}, c: *m${i - 1}, d: *m${i - 1}}`).join('\n'),
}

t.test('5: alias bombs return quickly with a value or a problem', async (t) => {
  holds(t, 'random laughs, every loader, under 1 s', fc.property(
    fc.integer({ min: 1, max: 12 }), fc.integer({ min: 2, max: 12 }), fc.constantFrom('flow' as const, 'block' as const),
    fc.constantFrom(...Object.keys(BOMB_PLACES)), fc.constantFrom(configLoader, secretsLoader),
    (depth, width, style, place, loader) => {
      const text = BOMB_PLACES[place]!(laughs(depth, width, style), depth)
      const started = performance.now()
      mustHold(loader, text, 'bomb.yaml')
      const ms = performance.now() - started
      if (ms >= 1_000) throw new Error(`${loader.name} took ${ms.toFixed(0)} ms`)
    }), 60)

  // The classic: nine levels of ten, 10^9 "lol"s if expanded.
  const classic = laughs(9, 10, 'flow')
  for (const loader of LOADERS) {
    const started = performance.now()
    const r = run(loader, classic, 'lol.yaml')
    t.equal(r.why, undefined, `${loader.name}: classic billion laughs keeps the contract`)
    t.ok(performance.now() - started < 1_000, `${loader.name}: in under 1 s`)
  }
  const cfg = parseConfig(classic, 'lol.yaml', {})
  t.equal(cfg.config, undefined, 'the classic bomb is not a config')
  t.ok(cfg.problems.length > 0, 'and says why')

  // One wide anchor referenced 100 times: bounded by the alias limit, still quick.
  const wide = `a: &a [${Array(5_000).fill('x').join(', ')}]\nb: [${Array(100).fill('*a').join(', ')}]\n`
  for (const loader of LOADERS) {
    const started = performance.now()
    const r = run(loader, wide, 'wide.yaml')
    t.equal(r.why, undefined, `${loader.name}: wide fan-out keeps the contract`)
    t.ok(performance.now() - started < 1_000, `${loader.name}: in under 1 s`)
  }

  // A self-referencing anchor must not recurse forever.
  for (const loader of LOADERS) t.equal(run(loader, 'a: &a [*a, *a]\n', 'cycle.yaml').why, undefined, `${loader.name}: self-referencing alias`)
})

// ---------------------------------------------------------------- known bugs (todo until fixed)

t.test('regression: an empty secrets document must say why it gives no secrets', { todo: 'BUG src/secrets/load.ts:37 parseSecrets returns { problems: [] } with no secrets for a document with no content' }, async (t) => {
  // Minimized counterexample: ''. The same for whitespace, comments and a lone BOM.
  for (const text of ['', '\n', '# only a comment\n', '\ufeff']) {
    const r = parseSecrets(text, SECRETS_FILE)
    t.ok(r.secrets !== undefined || r.problems.length > 0, `${JSON.stringify(text)}: secrets or a problem`)
  }
})

t.test('regression: deeply nested flow collections do not kill the process', { todo: 'BUG src/config/yaml-source.ts:39 readYaml lets yaml overflow the stack; a second parse then aborts Node (V8 "RegExpCompiler Allocation failed")' }, async (t) => {
  // Minimized: '['.repeat(850) + ']'.repeat(850) (threshold depends on the stack size), parsed twice in one process.
  // The first parse reports "Maximum call stack size exceeded"; a later one aborts Node
  // with a fatal V8 error that no try/catch sees (regexp tier-up compiles near the stack
  // limit; `node --no-regexp-tier-up` survives). Run in a child so this test file survives.
  const modules = ['config/load.js', 'secrets/load.js'].map((m) => new URL(`../../src/${m}`, import.meta.url).href)
  const script = [
    `const { parseConfig } = await import(${JSON.stringify(modules[0])})`,
    `const { parseSecrets } = await import(${JSON.stringify(modules[1])})`,
    `const deep = '['.repeat(2000) + ']'.repeat(2000)`,
    `const out = []`,
    `for (let i = 0; i < 3; i++) out.push(parseConfig(deep, 'deep.yaml', {}).problems, parseSecrets(deep, 'deep.yaml').problems)`,
    `process.stdout.write(JSON.stringify(out))`,
  ].join('\n')
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 30_000 })
  t.equal(child.status, 0, `the child exits normally (stderr: ${child.stderr.split('\n').find((l) => l.includes('FATAL')) ?? child.stderr.slice(0, 200)})`)
  if (child.status === 0) {
    const runs = JSON.parse(child.stdout) as Problem[][]
    const text = '['.repeat(2000) + ']'.repeat(2000)
    for (const problems of runs) t.equal(violation(configLoader, text, 'deep.yaml', { value: undefined, problems }), undefined, 'and each parse reports a problem inside the text')
  }
})

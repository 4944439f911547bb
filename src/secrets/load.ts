// Secrets come from `secrets.file` (YAML) or the POPGATE_NONCE_SECRETS /
// POPGATE_TICKET_SECRETS / POPGATE_COOKIE_SECRETS env vars ("id:base64url,id2:…").
// When nothing is configured, dev secrets are generated in memory: every
// replica then has its own and they will not accept each other's nonces.
//
// secrets.yaml (docs/configuration.md, "Secrets"; `popgate secrets generate` makes one):
//   nonce:   [{ id: n2, secret: <base64url, ≥ 32 bytes> }, { id: n1, secret: … }]
//   tickets: [{ id: t2, secret: … }, { id: t1, secret: …, retired: 2026-12-07T10:00:00Z }]
//   cookies: [...]      (`retired`: when the key stopped sealing; it opens for one TTL + skew after that)
//   assertion: [{ kid: a1, kty: EC, crv: P-256, x: …, y: …, d: … }]   (secrets/assertion-keys.ts)
//   encryption: [{ kid: e1, kty: EC, crv: P-256, x: …, y: …, d: … }]  (secrets/encryption-keys.ts: cnf.jwe)

import { randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { readYaml, Problems, joinPath, type Problem, type YNode } from '../config/yaml-source.js'
import { closestKey } from '../config/readers.js'
import type { NamedSecret, Secrets } from './types.js'
import { generateAssertionKey, readAssertionKeys, type AssertionKey } from './assertion-keys.js'
import { generateEncryptionKey, readEncryptionKeys, type EncryptionKey } from './encryption-keys.js'

const KINDS = ['nonce', 'tickets', 'cookies'] as const
type Kind = typeof KINDS[number]
const ENV_OF: Record<Kind, string> = { nonce: 'POPGATE_NONCE_SECRETS', tickets: 'POPGATE_TICKET_SECRETS', cookies: 'POPGATE_COOKIE_SECRETS' }
const MIN_SECRET_BYTES = 32
const KID = /^[A-Za-z0-9_-]{1,16}$/
/** Messages about this file never print its keys or values (issue 11 finding 6). */
const HIDDEN = 'its name is not shown: this file holds secrets'
/** A known key the stray one was probably meant to be, else the list: only known names are printed. */
const hint = (key: string, known: readonly string[]): string => {
  const guess = closestKey(key, known)
  return guess ? `did you mean "${guess}"?` : `expected one of ${known.join(', ')}`
}

export function generateDevSecrets(): Secrets {
  const one = (): NamedSecret[] => [{ id: 'dev', key: randomBytes(32) }]
  return { nonce: one(), tickets: one(), cookies: one(), assertion: [generateAssertionKey('dev')], encryption: [generateEncryptionKey('dev')], generated: true }
}

function checkSecret(id: unknown, secret: unknown): string | NamedSecret {
  if (typeof id !== 'string' || !KID.test(id)) return 'id must be 1-16 characters of A-Z a-z 0-9 _ -'
  if (typeof secret !== 'string' || !/^[A-Za-z0-9_-]+$/.test(secret)) return 'secret must be base64url'
  const key = Buffer.from(secret, 'base64url')
  if (key.length < MIN_SECRET_BYTES) return `secret must decode to at least ${MIN_SECRET_BYTES} bytes`
  return { id, key }
}

export function parseSecrets(text: string, file: string): { secrets?: Secrets; problems: readonly Problem[] } {
  const { root, problems } = readYaml(text, file)
  if (!root) {
    if (problems.ok) problems.at({ line: 1, col: 1 }, '', 'the file is empty; a nonce list is required')
    return { problems: problems.list }
  }
  const out: Record<Kind, NamedSecret[]> = { nonce: [], tickets: [], cookies: [] }
  if (root.kind !== 'map') {
    problems.at(root.pos, '', 'must be a mapping of nonce/tickets/cookies lists')
    return { problems: problems.list }
  }
  let assertion: AssertionKey[] = []
  let encryption: EncryptionKey[] = []
  for (const e of root.entries) {
    if (e.key === 'assertion') { assertion = readAssertionKeys(e.value, e.key, problems); continue }
    if (e.key === 'encryption') { encryption = readEncryptionKeys(e.value, e.key, problems); continue }
    // The key is not printed: in this file a stray key is often a pasted secret.
    if (!(KINDS as readonly string[]).includes(e.key)) { problems.at(e.keyPos, '', `unknown key (${HIDDEN}); ${hint(e.key, [...KINDS, 'assertion', 'encryption'])}`); continue }
    readList(e.value, e.key, out[e.key as Kind], problems, e.key !== 'nonce')
  }
  if (!problems.ok) return { problems: problems.list }
  if (out.nonce.length === 0) problems.at(root.pos, 'nonce', 'at least one nonce secret is required')
  if (!problems.ok) return { problems: problems.list }
  return { secrets: { ...fillMissing(out, assertion), encryption }, problems: [] }
}

/** RFC 3339 date-time with an explicit offset (`2026-12-07T10:00:00Z`). */
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/

function readList(node: YNode, path: string, into: NamedSecret[], problems: Problems, retirable: boolean): void {
  if (node.kind !== 'seq') { problems.at(node.pos, path, 'must be a list of { id, secret }'); return }
  const known = retirable ? ['id', 'secret', 'retired'] : ['id', 'secret']
  node.items.forEach((item, i) => {
    const p = joinPath(path, i)
    if (item.kind !== 'map') { problems.at(item.pos, p, 'must be { id, secret }'); return }
    const get = (k: string) => item.entries.find((e) => e.key === k)?.value
    for (const e of item.entries) if (!known.includes(e.key)) problems.at(e.keyPos, p, `unknown key (${HIDDEN}); ${hint(e.key, known)}`)
    const id = get('id'), secret = get('secret'), retired = get('retired')
    const r = checkSecret(id?.kind === 'scalar' ? id.value : undefined, secret?.kind === 'scalar' ? secret.value : undefined)
    let retiredAtMs: number | undefined
    if (retired !== undefined) {
      const v = retired.kind === 'scalar' ? retired.value : undefined
      retiredAtMs = typeof v === 'string' && RFC3339.test(v) ? Date.parse(v) : NaN
      if (Number.isNaN(retiredAtMs)) { problems.at(retired.pos, joinPath(p, 'retired'), 'must be an RFC 3339 time such as 2026-12-07T10:00:00Z'); return }
      if (i === 0) { problems.at(retired.pos, joinPath(p, 'retired'), 'the first key seals new credentials and cannot be retired; put the new key first'); return }
    }
    if (typeof r === 'string') problems.at(item.pos, p, r)
    else if (into.some((s) => s.id === r.id)) problems.at(item.pos, p, `duplicate id ${r.id}`)
    else into.push(retiredAtMs === undefined ? r : { ...r, retiredAtMs })
  })
}

/** Lists left empty get keys derived from nothing shared: a fresh random key (tickets/cookies then only work per replica). */
// Assertion keys are not made up: the JWKS must be the same on every replica, so without a list the gateway refuses `identityHeaders.assertion: true`.
function fillMissing(lists: Record<Kind, NamedSecret[]>, assertion: readonly AssertionKey[] = []): Secrets {
  const orRandom = (l: NamedSecret[]) => (l.length > 0 ? l : [{ id: 'gen', key: randomBytes(32) }])
  return { nonce: lists.nonce, tickets: orRandom(lists.tickets), cookies: orRandom(lists.cookies), assertion, generated: false }
}

export function secretsFromEnv(env: Readonly<Record<string, string | undefined>>): { secrets?: Secrets; problems: readonly Problem[] } {
  const problems = new Problems('$env')
  const lists: Record<Kind, NamedSecret[]> = { nonce: [], tickets: [], cookies: [] }
  let any = false
  for (const kind of KINDS) {
    const v = env[ENV_OF[kind]]
    if (!v) continue
    any = true
    for (const part of v.split(',')) {
      const fields = part.split(':')
      const r = fields.length === 2 ? checkSecret(fields[0], fields[1]) : 'each entry must be id:base64url-secret'
      if (typeof r === 'string') problems.at({ line: 1, col: 1 }, ENV_OF[kind], r)
      else lists[kind].push(r)
    }
  }
  if (!any) return { problems: [] }
  if (lists.nonce.length === 0) problems.at({ line: 1, col: 1 }, ENV_OF.nonce, 'required when any *_SECRETS variable is set')
  return problems.ok ? { secrets: fillMissing(lists), problems: [] } : { problems: problems.list }
}

export async function loadSecrets(file: string | undefined, env: Readonly<Record<string, string | undefined>>): Promise<{ secrets?: Secrets; problems: readonly Problem[] }> {
  if (file) {
    let text: string
    try { text = await readFile(file, 'utf8') } catch (err) {
      return { problems: [{ file, line: 1, col: 1, path: '', message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}${(err as NodeJS.ErrnoException).code === 'ENOENT' ? `; make one with: popgate secrets generate --out ${file}` : ''}` }] }
    }
    return parseSecrets(text, file)
  }
  const fromEnv = secretsFromEnv(env)
  if (fromEnv.secrets || fromEnv.problems.length > 0) return fromEnv
  return { secrets: generateDevSecrets(), problems: [] }
}

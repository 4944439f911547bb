// The error registry (src/errors.ts) against its documentation (docs/errors.md)
// and the wire contract (PROTOCOL.md §6): every code documented once, with the
// same status and WWW-Authenticate error, under the heading of its status.

import t from 'tap'
import { readFileSync } from 'node:fs'
import { STATUS_CODES } from 'node:http'
import { fileURLToPath } from 'node:url'
import { AUTH_ERRORS, ERRORS, GatewayError, isGatewayError, sanitizeDescription, type ErrorCode } from '../../src/errors.js'

// dist/test/unit/errors.test.js → repository root
const DOC_FILE = fileURLToPath(new URL('../../../docs/errors.md', import.meta.url))

interface DocRow { code: string; status: number; authError: string | undefined; when: string; heading: number | undefined; line: number }

/** Rows of every table whose first cell is a backticked code. */
function parseDoc(text: string): DocRow[] {
  const rows: DocRow[] = []
  let heading: number | undefined
  text.split('\n').forEach((line, i) => {
    const h = /^#{2,3} (\d{3}) /.exec(line)
    if (h) heading = Number(h[1])
    else if (/^#{1,3} /.test(line)) heading = undefined
    const m = /^\|\s*`([a-z0-9_]+)`\s*\|/.exec(line)
    if (!m) return
    const cells = line.split('|').slice(1, -1).map((c) => c.trim())
    const err = /`([a-z_]+)`/.exec(cells[2] ?? '')
    rows.push({ code: m[1]!, status: Number(cells[1]), authError: err?.[1], when: cells[3] ?? '', heading, line: i + 1 })
  })
  return rows
}

const doc = readFileSync(DOC_FILE, 'utf8')
const rows = parseDoc(doc)
const codes = Object.keys(ERRORS) as ErrorCode[]

t.test('the doc parser sees the tables', async (t) => {
  t.ok(rows.length >= codes.length, `${rows.length} rows`)
  t.ok(doc.includes('| code | status | WWW-Authenticate error | when |'), 'the header row names the columns')
})

t.test('every code in ERRORS appears in docs/errors.md, with the same status and error', async (t) => {
  for (const code of codes) {
    const found = rows.filter((r) => r.code === code)
    t.equal(found.length, 1, `${code} documented exactly once`)
    const row = found[0]
    if (!row) continue
    t.equal(row.status, ERRORS[code].status, `${code}: status`)
    t.equal(row.authError, ERRORS[code].authError, `${code}: WWW-Authenticate error`)
    t.equal(row.heading, row.status, `${code}: listed under the ${row.status} heading (line ${row.line})`)
    t.ok(row.when.length > 10, `${code}: says when`)
  }
})

t.test('every code in docs/errors.md exists in ERRORS', async (t) => {
  for (const row of rows) t.ok(Object.hasOwn(ERRORS, row.code), `docs/errors.md:${row.line}: ${row.code} is a registered code`)
})

t.test('the registry mirrors PROTOCOL.md §6', async (t) => {
  const expect = (code: ErrorCode, status: number, authError: string | undefined) =>
    t.same([ERRORS[code].status, ERRORS[code].authError], [status, authError], code)
  expect('credentials_missing', 401, undefined)
  expect('malformed_proof', 400, 'invalid_request')
  expect('multiple_credentials', 400, 'invalid_request')
  expect('proof_too_large', 400, 'invalid_request')
  expect('nonce_stale', 401, 'use_nonce')
  expect('proof_replayed', 401, 'invalid_proof')
  expect('key_fetch_timeout', 401, 'invalid_proof')
  expect('forbidden', 403, 'insufficient_scope')
  expect('path_rejected', 400, undefined)
  expect('replay_store_unavailable', 503, undefined)
  expect('upstream_unavailable', 502, undefined)
  expect('upstream_timeout', 504, undefined)
  for (const code of codes) {
    const s = ERRORS[code]
    if (code.startsWith('nonce_')) t.equal(s.authError, 'use_nonce', `${code}: a nonce problem is use_nonce`)
    if (code.startsWith('proof_') && s.status === 401) t.equal(s.authError, 'invalid_proof', code)
    if (code.startsWith('key_')) t.same([s.status, s.authError], [401, 'invalid_proof'], `${code}: the client domain's failure, not ours`)
    t.equal(s.title, STATUS_CODES[s.status], `${code}: title is the reason phrase of ${s.status}`)
    t.match(code, /^[a-z][a-z0-9_]*$/)
  }
})

t.test('GatewayError carries the registry entry and a client-safe detail', async (t) => {
  const cause = new Error('jose said something with a token in it')
  const e = new GatewayError('proof_replayed', 'this proof was already used', { cause })
  t.ok(isGatewayError(e))
  t.notOk(isGatewayError(new Error('x')))
  t.equal(e.name, 'GatewayError')
  t.same([e.code, e.status, e.authError, e.title, e.detail, e.message], ['proof_replayed', 401, 'invalid_proof', 'Unauthorized', 'this proof was already used', 'this proof was already used'])
  t.equal(e.cause, cause)
  t.equal(new GatewayError('forbidden').detail, 'Forbidden', 'detail defaults to the title')
  const nasty = new GatewayError('malformed_proof', 'x"y\\z\r\nSet-Cookie: a=b\u00e9\u0000' + 'w'.repeat(300))
  t.notMatch(nasty.detail, /["\\\r\n\u0000\u00e9]/, 'no quote, backslash, control or non-ASCII (RFC 6750 §3)')
  t.ok(nasty.detail.length <= 200)
})

t.test('sanitizeDescription keeps exactly RFC 6750 §3 error_description characters', async (t) => {
  let all = ''
  for (let c = 0; c < 0x100; c++) all += String.fromCharCode(c)
  const allowed = (c: number) => c === 0x20 || c === 0x21 || (c >= 0x23 && c <= 0x5b) || (c >= 0x5d && c <= 0x7e)
  for (const chunk of [all.slice(0, 128), all.slice(128)]) {
    const out = sanitizeDescription(chunk)
    t.equal(out.length, chunk.length, 'one character out for one in')
    const wrong = [...chunk].filter((ch, i) => (allowed(ch.charCodeAt(0)) ? out[i] !== ch : out[i] !== '?'))
    t.same(wrong.map((ch) => ch.charCodeAt(0).toString(16)), [], 'allowed kept, every other replaced by "?"')
  }
  t.equal(sanitizeDescription('plain text, ok'), 'plain text, ok')
})

t.test('every challenge error word is documented once, with where it is defined, and no other word is', async (t) => {
  const section = doc.slice(doc.indexOf('## Challenge error words'), doc.indexOf('## Not in this version'))
  const documented = [...section.matchAll(/^\|\s*([a-z_]+)\s*\|\s*([^|]+?)\s*\|/gm)].map((m) => [m[1]!, m[2]!] as const).filter(([w]) => w !== 'word')
  t.strictSame(documented.map(([w]) => w).sort(), Object.keys(AUTH_ERRORS).sort())
  for (const [word, where] of documented) t.equal(where, AUTH_ERRORS[word as keyof typeof AUTH_ERRORS], `${word}: defined in`)
  for (const code of codes) {
    const word = ERRORS[code].authError
    if (word !== undefined) t.ok(Object.hasOwn(AUTH_ERRORS, word), `${code} says a registered word`)
  }
})

// What every credential scheme must do for the gate (src/schemes/types.ts), as
// one suite each scheme's tests run with their own fixtures:
// test/unit/schemes/domainpop/scheme.test.ts, dpop/scheme.test.ts and the
// test-only second scheme's (test/schemes/second/). Modelled on the replay
// store's contract (test/unit/replay/contract.ts). A new scheme passes this
// before it is registered.
//
// It checks:
//   1. a lowercase name and lowercase owned fields; `challenge()` parses with
//      the project's challenge parser (no error param when bare), and every
//      code the scheme can throw is registered, documented in docs/errors.md,
//      and carried in the challenge as a registered word;
//   2. parse is pure: with collaborators that throw on any call, parse over
//      valid and property-generated hostile credentials never touches them,
//      and throws only GatewayErrors;
//   3. verify returns the scheme's name and the claimed identity, a
//      confirmation, and header-safe response fields;
//   4. the same credential twice is refused the second time (401), and every
//      replay key the scheme records is under its own namespace; a scheme
//      whose possession is proven by the TLS handshake itself (`possession:
//      'tls-handshake'`: a client certificate, presented on every request)
//      has nothing per request to replay: it must record nothing instead;
//      a bearer session credential (`possession: 'bearer-session'`: the
//      session cookie, PROTOCOL.md §4) has no per-request proof to spend
//      either: it must record nothing, name its identity on every request
//      (so the gate's ACL judges each one again, PROTOCOL.md §2.3) and be
//      refused by a rule with `sessions: false`;
//   5. no error detail echoes any part of a credential.

import type { Test } from 'tap'
import fc from 'fast-check'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { AUTH_ERRORS, ERRORS, GatewayError, type ErrorCode } from '../../../src/errors.js'
import { parseChallenges } from '../../../src/http/auth-header.js'
import type { Rule } from '../../../src/acl/index.js'
import { namespacedReplay } from '../../../src/schemes/replay.js'
import type { SchemeReplay } from '../../../src/schemes/module.js'
import type { Claim, Credentials, Scheme, VerifyView } from '../../../src/schemes/types.js'
import { createMemoryReplayStore } from '../../../src/replay/memory.js'

// dist/test/unit/schemes/contract.js → repository root
const ERRORS_DOC = readFileSync(fileURLToPath(new URL('../../../../docs/errors.md', import.meta.url)), 'utf8')

export interface ContractDeps {
  /** The scheme's replay store (namespaced; recording what it is asked). */
  readonly replay: SchemeReplay
  /** Every I/O collaborator (key caches, fetchers, stores) the scheme is built with must throw on any call when this is true. */
  readonly trapped: boolean
}

export interface SchemeFixture<C extends Claim = Claim> {
  /** The scheme, built with `deps`. */
  create(deps: ContractDeps): Scheme<C> | Promise<Scheme<C>>
  /** The namespace the scheme's module asks `shared.replay` for. */
  readonly namespace: string
  /** A fresh valid credential (a new jti each call) and the request it was made for. */
  valid(): Promise<{ readonly credentials: Credentials; readonly view: VerifyView }>
  /** Hostile credentials for the same request as a valid one (property-generated). */
  readonly hostile: fc.Arbitrary<Credentials>
  /** Every code the scheme can throw from parse or verify. */
  readonly codes: readonly ErrorCode[]
  /** The rule verify is given (the gate has authorized). */
  readonly rule?: Rule
  /**
   * Where possession of the key is proven: `request` (default: a proof in
   * the request, single use) or `tls-handshake` (RFC 8446 §4.4.3
   * CertificateVerify: the credential is the connection's, no replay store)
   * or `bearer-session` (a sealed session cookie: a bearer credential the
   * browser sends unchanged on every request, so there is no single-use proof
   * to record; what stands in is that the ACL authorizes the identity it names
   * on every request, that `sessions: false` refuses it, revocation and its
   * short lifetime; PROTOCOL.md §4, docs/security.md §3.9).
   */
  readonly possession?: 'request' | 'tls-handshake' | 'bearer-session'
}

/** Throws on any property access or call: a collaborator parse must never touch. */
export function trap<T extends object>(what: string): T {
  return new Proxy({} as T, {
    get(_t, prop) {
      if (prop === 'then') return undefined // not a thenable
      throw new Error(`parse touched ${what}.${String(prop)}`)
    },
  })
}

const HEADER_SAFE = /^[\x20-\x7e]*$/
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/

/** Every window of `n` characters of the credential's values: none may appear in an error detail. */
function windows(c: Credentials, n = 12): string[] {
  const values = [c.authorization ?? '', ...(c.fields?.values() ?? []), c.cookie ?? '']
  const out: string[] = []
  for (const v of values) {
    // The auth-scheme word and a space are the protocol's, not the credential's.
    const body = v.replace(/^[A-Za-z-]+ /, '')
    for (let i = 0; i + n <= body.length; i += 3) out.push(body.slice(i, i + n))
  }
  return out
}

export function schemeContract<C extends Claim>(t: Test, f: SchemeFixture<C>): void {
  const rule = f.rule ?? ({} as Rule)
  const build = async (trapped: boolean) => {
    const recorded: string[] = []
    const store = createMemoryReplayStore({ maxEntries: 10_000 })
    const recording = { firstUse: (key: string, ttl: number) => { recorded.push(key); return store.firstUse(key, ttl) } }
    const replay = trapped ? trap<SchemeReplay>('replay') : namespacedReplay(recording, f.namespace, 60_000, () => {})
    return { scheme: await f.create({ replay, trapped }), recorded }
  }

  t.test('contract: a lowercase name and fields; challenges parse; every code is registered, documented and said in a registered word', async (t) => {
    const { scheme } = await build(false)
    t.match(scheme.name, /^[a-z][a-z0-9-]*$/, 'name')
    for (const field of scheme.fields) t.equal(field, field.toLowerCase(), `field ${field}`)
    for (const field of scheme.forwardable ?? []) t.equal(field, field.toLowerCase(), `forwardable ${field}`)
    const bare = scheme.challenge(undefined)
    if (bare.field !== undefined) {
      const [c] = parseChallenges(bare.field)
      t.equal(c?.scheme.toLowerCase(), scheme.authScheme?.toLowerCase(), 'the challenge names the scheme\'s auth-scheme')
      t.notOk(c !== undefined && Object.hasOwn(c.params, 'error'), 'a bare challenge carries no error')
    }
    for (let i = 0; i + 1 < (bare.headers ?? []).length; i += 2) t.match(bare.headers![i], TOKEN, 'challenge header name is a token')
    t.ok(f.codes.length > 0, 'the fixture lists the codes')
    for (const code of f.codes) {
      t.ok(Object.hasOwn(ERRORS, code), `${code} is registered`)
      t.match(ERRORS_DOC, new RegExp('^\\| `' + code + '` \\|', 'm'), `${code} is in docs/errors.md`)
      const parts = scheme.challenge(new GatewayError(code, 'x'))
      if (parts.field === undefined) continue
      const error = parseChallenges(parts.field)[0]?.params.error
      if (ERRORS[code].authError === undefined) t.equal(error, undefined, `${code}: no error word`)
      else t.ok(error !== undefined && Object.hasOwn(AUTH_ERRORS, error), `${code}: says a registered word (${error})`)
    }
  })

  t.test('contract: parse touches no collaborator and throws only GatewayErrors, for valid and hostile credentials', async (t) => {
    const { scheme } = await build(true)
    const { credentials, view } = await f.valid()
    const claim = scheme.parse(credentials, view)
    t.type(claim.identity, 'string', 'a valid credential parses to an identity, with every collaborator trapped')
    fc.assert(fc.property(f.hostile, (c) => {
      try {
        scheme.parse(c, view)
      } catch (err) {
        if (!(err instanceof GatewayError)) throw new Error(`parse threw ${String(err)}`)
        for (const w of windows(c)) if (err.detail.includes(w)) throw new Error(`${err.code}: the detail echoes the credential: ${err.detail}`)
      }
      return true
    }), { numRuns: 300 })
  })

  t.test('contract: verify proves the claimed identity under the scheme\'s name, with a confirmation and header-safe response fields', async (t) => {
    const { scheme } = await build(false)
    const { credentials, view } = await f.valid()
    const claim = scheme.parse(credentials, view)
    const p = await scheme.verify(claim, view, rule)
    t.equal(p.method, scheme.name, 'method is the scheme\'s name')
    t.equal(p.identity, claim.identity, 'identity is the claimed one (the gate refuses any other)')
    t.ok(p.confirmation.jkt !== undefined || p.confirmation['x5t#S256'] !== undefined, 'a confirmation (jkt or x5t#S256)')
    t.match(p.thumbprint, /^[A-Za-z0-9_-]+$/, 'thumbprint is base64url')
    const fields = p.responseHeaders ?? []
    t.equal(fields.length % 2, 0, 'response fields come in pairs')
    for (let i = 0; i < fields.length; i += 2) {
      t.match(fields[i], TOKEN, 'field name is a token')
      t.match(fields[i + 1], HEADER_SAFE, 'field value is printable ASCII')
    }
    t.match(p.identity, HEADER_SAFE, 'identity is printable ASCII (it becomes a header)')
  })

  if (f.possession === 'tls-handshake') {
    t.test('contract: proven by the TLS handshake, the credential holds on every request and records nothing to replay', async (t) => {
      const { scheme, recorded } = await build(false)
      const { credentials, view } = await f.valid()
      for (let i = 0; i < 2; i++) t.equal((await scheme.verify(scheme.parse(credentials, view), view, rule)).identity, scheme.parse(credentials, view).identity, `request ${i + 1}`)
      t.equal(recorded.length, 0, 'no replay key')
      const trapped = await build(true)
      await t.resolves(trapped.scheme.verify(trapped.scheme.parse(credentials, view), view, rule), 'verify touches no replay store')
    })
  } else if (f.possession === 'bearer-session') {
    t.test('contract: a bearer session credential holds on every request, records nothing to replay, names its identity each time for the ACL, and yields to sessions: false', async (t) => {
      const { scheme, recorded } = await build(false)
      const { credentials, view } = await f.valid()
      const sessions = { ...rule, sessions: true } as Rule
      for (let i = 0; i < 2; i++) {
        // The gate runs the ACL on parse's identity before every verify (pipeline/authenticate.ts): parse must name it each time.
        const claim = scheme.parse(credentials, view)
        t.type(claim.identity, 'string', `request ${i + 1}: parse names the identity the ACL judges`)
        t.equal((await scheme.verify(claim, view, sessions)).identity, claim.identity, `request ${i + 1}: accepted again`)
      }
      t.equal(recorded.length, 0, 'no replay key')
      const trapped = await build(true)
      await t.resolves(trapped.scheme.verify(trapped.scheme.parse(credentials, view), view, sessions), 'verify touches no replay store')
      const refused = await scheme.verify(scheme.parse(credentials, view), view, { ...rule, sessions: false } as Rule).then(() => undefined, (err: unknown) => err)
      t.ok(refused instanceof GatewayError && refused.code === 'session_refused' && refused.status === 401, 'sessions: false refuses it (401 session_refused): a proof is asked for')
    })
  } else t.test('contract: the same credential twice is refused the second time; its replay keys stay in its namespace', async (t) => {
    const { scheme, recorded } = await build(false)
    const { credentials, view } = await f.valid()
    await scheme.verify(scheme.parse(credentials, view), view, rule)
    const again = await scheme.verify(scheme.parse(credentials, view), view, rule).then(() => undefined, (err: unknown) => err)
    t.ok(again instanceof GatewayError, 'refused with a GatewayError')
    t.equal((again as GatewayError).status, 401, 'as a 401')
    t.ok(recorded.length > 0, 'the scheme recorded its credential')
    for (const key of recorded) t.ok(key.startsWith(f.namespace + '\n'), `replay key under ${f.namespace}`)
  })

  t.test('contract: two schemes\' replay keys never collide', async (t) => {
    const store = createMemoryReplayStore({ maxEntries: 100 })
    const mine = namespacedReplay(store, f.namespace, 60_000, () => {})
    const other = namespacedReplay(store, f.namespace + '-other', 60_000, () => {})
    t.equal(await mine.firstUse('alice.test\nj1'), true)
    t.equal(await other.firstUse('alice.test\nj1'), true, 'the same key in another namespace is a first use')
    t.equal(await mine.firstUse('alice.test\nj1'), false)
    t.throws(() => namespacedReplay(store, 'a\nb', 1, () => {}), 'a namespace cannot hold LF (it would forge another\'s prefix)')
  })
}

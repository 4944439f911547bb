// readDomainPopProof (PROTOCOL.md §2.3 steps 1–4), called directly: no
// gateway, no key host, no signature. A real nonce issuer, a real Config
// (parseConfig defaults: maxAge 60 s, skew 5 s, nonce ttl 5 min) and a
// clock passed in as ctx.nowMs. Each check is broken on its own, from a proof
// that is otherwise accepted, and must fail with its own code.

import t from 'tap'
import { randomBytes } from 'node:crypto'
import { readDomainPopProof, type ProofContext, type ProofDeps, type DomainPopProof } from '../../../../src/schemes/domainpop/proof.js'
import { htuMatches } from '../../../../src/proofs/claims.js'
import { createNonceIssuer, type NonceIssuer } from '../../../../src/secrets/nonce.js'
import { GatewayError } from '../../../../src/errors.js'
import { b64json, b64url, compactJws, editParts, type JsonObject, type ProofParts } from '../../../helpers/forge.js'
import { unitConfig, PUBLIC_ORIGIN as ORIGIN } from '../../../helpers/unit/config.js'

const T0 = 1_700_000_000_000 // a whole second
const cfg = unitConfig()
const SKEW = cfg.proof.clockSkewMs
const MAX_AGE = cfg.proof.maxAgeMs
const TTL = cfg.nonce.ttlMs
const newIssuer = (): NonceIssuer => createNonceIssuer([{ id: 'n1', key: randomBytes(32) }], { ttlMs: TTL, clockSkewMs: SKEW })
const nonces = newIssuer()
const deps: ProofDeps = { publicOrigin: ORIGIN, proof: cfg.proof, keys: cfg.keys, nonces }

const KID = 'NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs' // RFC 7638 §3.1 example thumbprint
const ISS = 'alice.example'
const JKU = `https://${ISS}/.well-known/domainpop/keys/${KID}`
const PATH = '/api/things'
const NONCE = nonces.issue(T0)
const SIG = Buffer.from([1, 2, 3, 254, 255])

const good = (): ProofParts => ({
  header: { typ: 'domainpop+jwt', alg: 'ES256', jku: JKU, kid: KID },
  claims: { iss: ISS, aud: ORIGIN, htm: 'GET', htu: ORIGIN + PATH, iat: T0 / 1000, jti: 'jti-1', nonce: NONCE },
})
const ctxAt = (over: Partial<ProofContext> = {}): ProofContext => ({ method: 'GET', path: PATH, nowMs: T0, ...over })
const tokenOf = (parts: ProofParts): string => compactJws(parts.header, parts.claims, SIG)
const edited = (edits: { header?: JsonObject; claims?: JsonObject }): string => tokenOf(editParts(good(), edits))

/** 'ok', the GatewayError code, or a description of anything else thrown. */
function outcome(token: string, ctx: Partial<ProofContext> = {}, d: ProofDeps = deps): string {
  try {
    readDomainPopProof(token, ctxAt(ctx), d)
    return 'ok'
  } catch (err) {
    return err instanceof GatewayError ? err.code : `raw ${String(err)}`
  }
}
const header = (h: JsonObject, ctx: Partial<ProofContext> = {}) => outcome(edited({ header: h }), ctx)
const claims = (c: JsonObject, ctx: Partial<ProofContext> = {}) => outcome(edited({ claims: c }), ctx)

t.test('an accepted proof: every member the later stages need', async (t) => {
  const token = tokenOf(good())
  const p: DomainPopProof = readDomainPopProof(token, ctxAt(), deps)
  t.equal(p.identity, ISS)
  t.type(p.keyUrl, URL)
  t.equal(p.keyUrl.href, JKU)
  t.equal(p.kid, KID)
  t.equal(p.alg, 'ES256')
  t.equal(p.jti, 'jti-1')
  t.equal(p.iatSec, T0 / 1000)
  t.equal(p.nonceRefresh, false)
  t.equal(p.signingInput, token.slice(0, token.lastIndexOf('.')))
  t.same([...p.signature], [...SIG])
  t.same(p.claims, good().claims)
})

t.test('step 1: size and shape', async (t) => {
  // maxBytes counts the whole compact token.
  const token = tokenOf(good())
  const limit = (maxBytes: number): ProofDeps => ({ ...deps, proof: { ...cfg.proof, maxBytes } })
  t.equal(outcome(token, {}, limit(token.length)), 'ok', 'exactly maxBytes')
  t.equal(outcome(token, {}, limit(token.length - 1)), 'proof_too_large', 'one character over')
  t.equal(outcome(edited({ claims: { pad: 'x'.repeat(cfg.proof.maxBytes) } })), 'proof_too_large', 'the default maxBytes')

  const h = b64json(good().header), p = b64json(good().claims), s = b64url(SIG)
  for (const [name, tok] of Object.entries({
    'two segments': `${h}.${p}`,
    'four segments': `${h}.${p}.${s}.${s}`,
    'padding': `${h}.${p}.${s}=`,
    'header not JSON': `${b64url('{"typ"')}.${p}.${s}`,
    'header an array': `${b64json([good().header])}.${p}.${s}`,
    'payload null': `${h}.${b64json(null)}.${s}`,
    'payload a string': `${h}.${b64json('x')}.${s}`,
    'JSON serialization': JSON.stringify({ protected: h, payload: p, signature: s }),
  })) t.equal(outcome(tok), 'malformed_proof', name)
})

t.test('step 2: typ is exactly domainpop+jwt', async (t) => {
  for (const typ of [undefined, 'JWT', 'dpop+jwt', 'at+jwt', 'DomainPoP+JWT', 'domainpop+JWT', 'application/domainpop+jwt', ' domainpop+jwt', 'domainpop+jwt ', ['domainpop+jwt'], null, 1]) {
    t.equal(header({ typ }), 'proof_typ_invalid', JSON.stringify(typ))
  }
})

t.test('step 2: alg is in the allowlist, exact case', async (t) => {
  for (const alg of ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256']) t.equal(header({ alg }), 'ok', alg)
  for (const alg of [undefined, 'none', 'None', 'noNE', 'HS256', 'HS512', 'RS256', 'es256', 'Es256', 'eddsa', 'ED25519', 'ES256 ', ' ES256', 'ES256\u0000', ['ES256'], { ES256: true }, 256, null, '']) {
    t.equal(header({ alg }), 'proof_alg_unsupported', JSON.stringify(alg))
  }
  const narrow: ProofDeps = { ...deps, proof: unitConfig('proof:\n  algorithms: [ES256]').proof }
  t.equal(outcome(edited({ header: { alg: 'EdDSA' } }), {}, narrow), 'proof_alg_unsupported', 'outside a narrowed allowlist')
  t.equal(outcome(edited({ header: { alg: 'ES256' } }), {}, narrow), 'ok')
})

t.test('step 2: header members that would let the proof choose its key → proof_header_forbidden', async (t) => {
  const jwk = { kty: 'EC', crv: 'P-256', x: 'x', y: 'y' }
  for (const m of ['jwk', 'x5c', 'x5u', 'x5t', 'x5t#S256', 'crit', 'zip', 'enc', 'b64']) {
    for (const value of [m === 'jwk' ? jwk : 'v', null, false, []]) {
      t.equal(header({ [m]: value }), 'proof_header_forbidden', `${m}: ${JSON.stringify(value)}`)
    }
  }
  // The header JSON written by hand, so "__proto__" is an own member as JSON.parse makes it.
  const raw = `${b64url(JSON.stringify(good().header).slice(0, -1) + ',"__proto__":{"jwk":{}}}')}.${b64json(good().claims)}.${b64url(SIG)}`
  t.equal(outcome(raw), 'ok', 'a __proto__ member does not smuggle jwk in, nor crash')
})

t.test('step 2: kid is a 43-character base64url thumbprint', async (t) => {
  t.equal(header({ kid: 'A'.repeat(43) }), 'ok')
  for (const kid of [undefined, '', 'A'.repeat(42), 'A'.repeat(44), KID + '=', KID.slice(0, 42) + '+', KID.slice(0, 42) + '/', KID.slice(0, 42) + '.', ' ' + KID.slice(1), 43, [KID], null]) {
    t.equal(header({ kid }), 'proof_kid_invalid', JSON.stringify(kid))
  }
})

t.test('step 2: jku is required and its host is exactly iss', async (t) => {
  for (const jku of [undefined, null, 1, [JKU], { href: JKU }]) t.equal(header({ jku }), 'proof_jku_invalid', `jku ${JSON.stringify(jku)}`)
  const P = '/.well-known/domainpop/keys/k'
  for (const jku of [
    `https://bob.example${P}`, `https://eu.alice.example${P}`, `https://ALICE.example${P}`, `https://alice.example.${P}`,
    `https://x@alice.example${P}`, `http://alice.example${P}`, `https://alice.example:8443${P}`, `https://alice.example${P}?a=1`,
    `https://alice.example${P}#f`, 'https://alice.example/keys.json', `https://alice.example/.well-known/domainpop/../k`,
  ]) t.equal(header({ jku }), 'proof_jku_invalid', jku)
  t.equal(header({ jku: `https://alice.example:443${P}` }), 'ok', 'the default port spelled out')

  // The accepted-jku cache is keyed by identity: alice's URL stays alice's.
  t.equal(outcome(tokenOf(good())), 'ok')
  t.equal(outcome(edited({ header: { jku: JKU }, claims: { iss: 'evil.example' } })), 'proof_jku_invalid', 'a cached jku of another identity')
  t.equal(outcome(edited({ header: { jku: `https://evil.example${P}` }, claims: { iss: 'alice.example' } })), 'proof_jku_invalid')
  t.equal(outcome(edited({ header: { jku: `https://evil.example${P}` }, claims: { iss: 'alice.example' } })), 'proof_jku_invalid', 'a refusal is not cached as acceptance')
})

t.test('step 2: iss is an identity', async (t) => {
  for (const iss of [undefined, null, 1, '', 'ALICE.example', 'Alice.Example', 'alice.example.', 'localhost', '127.0.0.1', 'alice.123',
    'https://alice.example', 'alice.example:443', 'x@alice.example', ' alice.example', 'alice_x.example', '[::1]', 'ab--c.example', ['alice.example']]) {
    t.equal(claims({ iss }), 'proof_iss_invalid', JSON.stringify(iss))
  }
})

t.test('step 2: the iss detail says why, never echoes a label of the proof', async (t) => {
  for (const iss of ['ab--c.example', 'secretlabel-.example', 'xn--zz.example']) {
    try {
      readDomainPopProof(edited({ claims: { iss } }), ctxAt({}), deps)
      t.fail('accepted')
    } catch (err) {
      t.equal((err as GatewayError).code, 'proof_iss_invalid')
      t.notMatch((err as GatewayError).detail, iss.split('.')[0]!, `${iss}: ${(err as GatewayError).detail}`)
    }
  }
})

t.test('step 3: aud is exactly publicOrigin', async (t) => {
  for (const aud of [undefined, null, ORIGIN + '/', 'https://BOB.example', 'https://bob.example:443', 'http://bob.example', 'https://bob.example.', [ORIGIN], ORIGIN + PATH, 'https://alice.example']) {
    t.equal(claims({ aud }), 'proof_aud_mismatch', JSON.stringify(aud))
  }
})

t.test('step 3: htm is exactly the request method', async (t) => {
  for (const htm of [undefined, 'get', 'Get', 'POST', 'GET ', ['GET'], null]) t.equal(claims({ htm }), 'proof_htm_mismatch', JSON.stringify(htm))
  t.equal(claims({ htm: 'POST' }, { method: 'POST' }), 'ok')
  t.equal(claims({ htm: 'GET' }, { method: 'POST' }), 'proof_htm_mismatch')
})

t.test('step 3: htu is publicOrigin + the path, normalized, query and fragment ignored (RFC 9449 §4.3 (9))', async (t) => {
  const accepted = [
    ORIGIN + PATH,
    `${ORIGIN}${PATH}?a=1&b=2`, `${ORIGIN}${PATH}#frag`, `${ORIGIN}${PATH}?q#f`, `${ORIGIN}${PATH}?`,
    `HTTPS://BOB.EXAMPLE${PATH}`, `https://bob.example:443${PATH}`,
    `${ORIGIN}/api/%74hings`, `${ORIGIN}/api/./things`, `${ORIGIN}/api/x/../things`, `${ORIGIN}/%61pi/things`,
  ]
  for (const htu of accepted) t.equal(claims({ htu }), 'ok', htu)
  const refused = [
    undefined, null, 1, [ORIGIN + PATH], '', PATH, `//bob.example${PATH}`,
    `https://u@bob.example${PATH}`, `https://u:p@bob.example${PATH}`, `https://bob.example@bob.example${PATH}`,
    `https://alice.example${PATH}`, `http://bob.example${PATH}`, `https://bob.example:8443${PATH}`, `https://bob.example.${PATH}`,
    `${ORIGIN}/api/other`, `${ORIGIN}/api/things/`, `${ORIGIN}/API/things`, `${ORIGIN}/api%2Fthings`, `${ORIGIN}/api/things%00`,
  ]
  for (const htu of refused) t.equal(claims({ htu }), 'proof_htu_mismatch', JSON.stringify(htu)?.slice(0, 80))
  t.equal(claims({ htu: `${ORIGIN}/` }, { path: '/' }), 'ok', 'the root')
  t.equal(claims({ htu: ORIGIN }, { path: '/' }), 'ok', 'an origin with no path names the root')
})

t.test('htuMatches directly', async (t) => {
  t.ok(htuMatches(ORIGIN + '/a', ORIGIN, '/a'))
  t.ok(htuMatches(ORIGIN + '/a?x#y', ORIGIN, '/a'))
  t.ok(htuMatches('https://bob.example:443/%61', ORIGIN, '/a'))
  t.notOk(htuMatches(ORIGIN + '/a', ORIGIN, '/b'))
  t.notOk(htuMatches('https://user@bob.example/a', ORIGIN, '/a'), 'userinfo')
  t.notOk(htuMatches('https://:pw@bob.example/a', ORIGIN, '/a'), 'password only')
  t.notOk(htuMatches('https://evil.example/a', ORIGIN, '/a'))
  t.notOk(htuMatches('not a url', ORIGIN, '/a'))
  t.ok(htuMatches(ORIGIN + '/b/%2e%2e/a', ORIGIN, '/a'), 'an encoded dot segment is resolved like parseTarget does')
  t.notOk(htuMatches(ORIGIN + '/b/%2e%2e/a', ORIGIN, '/b/a'), '… to exactly one path')
  t.notOk(htuMatches({ toString: () => ORIGIN + '/a' }, ORIGIN, '/a'), 'only strings')
  t.notOk(htuMatches(ORIGIN + '/a' + '?'.repeat(8192), ORIGIN, '/a'), 'longer than 8 KiB')
  t.notOk(htuMatches('https://bob.examplx/a', ORIGIN, '/a'))
})

t.test('step 3: iat window [now − maxAge − skew, now + skew], edges inclusive', async (t) => {
  const iat = T0 / 1000
  // nonces issued well inside their life at every clock used here
  const early = nonces.issue(T0 - 10_000)
  const at = (nowMs: number) => claims({ iat, nonce: early }, { nowMs })
  t.equal(at(T0 - SKEW), 'ok', 'iat exactly skew in the future')
  t.equal(at(T0 - SKEW - 1), 'proof_iat_invalid', 'one millisecond further')
  t.equal(at(T0 + MAX_AGE + SKEW), 'ok', 'iat exactly maxAge + skew old')
  t.equal(at(T0 + MAX_AGE + SKEW + 1), 'proof_iat_invalid', 'one millisecond older')
  t.equal(claims({ iat: iat + 0.5 }), 'ok', 'a fractional iat is a number')
  t.equal(claims({ iat: iat + 3600 }), 'proof_iat_invalid', 'pre-generated for the future')
  t.equal(claims({ iat: 0 }), 'proof_iat_invalid')
  t.equal(claims({ iat: -iat }), 'proof_iat_invalid')
  for (const bad of [undefined, null, String(iat), [iat], { iat }, true]) t.equal(claims({ iat: bad }), 'proof_claims_invalid', JSON.stringify(bad))
  // 1e400 parses to Infinity; JSON.stringify cannot write it, so the payload is written by hand.
  const payload = JSON.stringify(good().claims).replace(`"iat":${iat}`, '"iat":1e400')
  t.equal(outcome(`${b64json(good().header)}.${b64url(payload)}.${b64url(SIG)}`), 'proof_claims_invalid', 'Infinity')
})

t.test('step 3: jti is a string of 1–128 characters', async (t) => {
  t.equal(claims({ jti: 'a' }), 'ok')
  t.equal(claims({ jti: 'a'.repeat(128) }), 'ok')
  for (const jti of [undefined, '', 'a'.repeat(129), 1, null, ['a'], { a: 1 }]) t.equal(claims({ jti }), 'proof_claims_invalid', JSON.stringify(jti)?.slice(0, 20))
})

t.test('step 4: nonce missing, invalid, stale, and past half its life', async (t) => {
  t.equal(claims({ nonce: undefined }), 'nonce_missing')
  for (const nonce of [null, '', 'abc', 1, [NONCE], NONCE + 'A', NONCE.slice(1), '!' + NONCE.slice(1)]) t.equal(claims({ nonce }), 'nonce_invalid', JSON.stringify(nonce))
  t.equal(claims({ nonce: newIssuer().issue(T0) }), 'nonce_invalid', 'issued by another gateway (another secret)')
  t.equal(claims({ nonce: nonces.issue(T0 + SKEW + 1000) }), 'nonce_invalid', 'dated beyond the skew in the future')
  t.equal(claims({ nonce: nonces.issue(T0 + SKEW) }), 'ok', 'dated exactly skew in the future')

  const stale = nonces.issue(T0 - TTL - 1000)
  t.equal(claims({ nonce: stale }), 'nonce_stale', 'older than the ttl')
  t.equal(claims({ nonce: nonces.issue(T0 - TTL) }), 'ok', 'exactly the ttl old')

  const young = readDomainPopProof(edited({ claims: { nonce: nonces.issue(T0 - TTL / 2) } }), ctxAt(), deps)
  t.equal(young.nonceRefresh, false, 'exactly half its life: no refresh yet')
  const old = readDomainPopProof(edited({ claims: { nonce: nonces.issue(T0 - TTL / 2 - 1000) } }), ctxAt(), deps)
  t.equal(old.nonceRefresh, true, 'past half its life: refresh')

  // A nonce that verified once is remembered, its age checked on every use.
  const n = nonces.issue(T0)
  t.equal(claims({ nonce: n, iat: (T0 + TTL) / 1000 }, { nowMs: T0 + TTL }), 'ok')
  t.equal(claims({ nonce: n, iat: (T0 + TTL + 1000) / 1000 }, { nowMs: T0 + TTL + 1000 }), 'nonce_stale', 'the memo does not keep it fresh')
})

t.test('cheapest first: the first failing step decides the code', async (t) => {
  // Break every check at once, then repair them one by one in protocol order.
  const fixes: Array<[string, { header?: JsonObject; claims?: JsonObject }]> = [
    ['proof_typ_invalid', { header: { typ: 'domainpop+jwt' } }],
    ['proof_alg_unsupported', { header: { alg: 'ES256' } }],
    ['proof_header_forbidden', { header: { jwk: undefined } }],
    ['proof_kid_invalid', { header: { kid: KID } }],
    ['proof_jku_invalid', { header: { jku: JKU } }],
    ['proof_iss_invalid', { claims: { iss: ISS } }],
    ['proof_aud_mismatch', { claims: { aud: ORIGIN } }],
    ['proof_htm_mismatch', { claims: { htm: 'GET' } }],
    ['proof_htu_mismatch', { claims: { htu: ORIGIN + PATH } }],
    ['proof_iat_invalid', { claims: { iat: T0 / 1000 } }],
    ['proof_claims_invalid', { claims: { jti: 'j' } }],
    ['nonce_missing', { claims: { nonce: NONCE } }],
  ]
  let parts = editParts(good(), {
    header: { typ: 'JWT', alg: 'none', jwk: {}, kid: 'short', jku: undefined },
    claims: { iss: 'ALICE', aud: 'x', htm: 'x', htu: 'x', iat: 1, jti: '', nonce: undefined },
  })
  for (const [code, fix] of fixes) {
    t.equal(outcome(tokenOf(parts)), code)
    parts = editParts(parts, fix)
  }
  t.equal(outcome(tokenOf(parts)), 'ok')
})

t.test('errors are 401s (400 for shape) whose detail never echoes the proof', async (t) => {
  const marker = 'ZZMARKERZZ'
  const cases: Array<{ header?: JsonObject; claims?: JsonObject }> = [
    { header: { typ: marker } }, { header: { alg: marker } }, { header: { kid: marker } },
    { header: { jku: `https://alice.example/${marker}` } }, { claims: { aud: marker } }, { claims: { htm: marker } },
    { claims: { htu: `${ORIGIN}/${marker}` } }, { claims: { jti: marker.repeat(20) } }, { claims: { nonce: marker } },
  ]
  for (const edits of cases) {
    try {
      readDomainPopProof(edited(edits), ctxAt(), deps)
      t.fail('accepted')
    } catch (err) {
      t.ok(err instanceof GatewayError)
      const e = err as GatewayError
      t.equal(e.status, 401, e.code)
      t.notMatch(e.detail, marker, `${e.code}: ${e.detail}`)
    }
  }
})

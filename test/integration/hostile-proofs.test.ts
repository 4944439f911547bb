// Hostile DomainPoP proofs, part 1: the shape of the credential and the
// protected header (PROTOCOL.md §2.3 steps 1–2). Every row is refused before
// any key is fetched. Parts 2–4: hostile-proofs-{jku,claims,keys}.test.ts.
// The runner and what it checks on every row: ./hostile-proofs-runner.ts.

import t from 'tap'
import { runTable, allowed, badRequest as bad, invalidProof as invalid, type Row } from './hostile-proofs-runner.js'
import {
  b64json, b64url, compactJws, flattenedJson, hmacJws, publicKeySecrets, signSegments, withSignature, decodeCompact,
} from '../helpers/forge.js'

const rows: Row[] = [
  // Positive controls: a gateway that refuses everything fails these.
  { name: 'control: a valid ES256 proof', build: (c) => ({ token: c.valid() }), expect: allowed() },
  {
    name: 'control: auth-scheme in lower case (RFC 9110 §11.1: schemes are case-insensitive)',
    build: (c) => ({ authorization: [`domainpop ${c.valid()}`] }),
    expect: allowed(),
  },
  {
    name: 'control: a valid Ed25519 proof',
    build: async (c) => { const ed = await c.mint('alice.test', 'Ed25519'); return { token: c.valid({}, ed) } },
    expect: allowed(),
  },
  {
    name: 'control: client-sent X-PoP-Identity / X_PoP_Identity are replaced, not forwarded',
    build: (c) => ({ token: c.valid(), headers: [['X-PoP-Identity', 'bob.test'], ['X_PoP_Identity', 'bob.test'], ['x-pop-auth-method', 'dpop']] }),
    expect: allowed(),
  },

  // Not our credentials at all: a bare challenge (§1), no error param.
  { name: 'a valid proof under the Bearer scheme', build: (c) => ({ authorization: [`Bearer ${c.valid()}`] }), expect: { status: 401, code: 'credentials_missing' } },
  {
    name: 'a valid proof as "DPoP" token + DPoP header (DPoP not enabled)',
    build: (c) => { const tok = c.valid(); return { authorization: [`DPoP ${tok}`], headers: [['DPoP', tok]] } },
    expect: { status: 401, code: 'credentials_missing' },
  },

  // Step 1: one Authorization header, size, three base64url segments, JSON objects.
  { name: 'empty credentials: "DomainPoP "', build: () => ({ authorization: ['DomainPoP '] }), expect: bad('malformed_proof') },
  {
    name: 'two Authorization headers, both valid proofs',
    build: (c) => ({ authorization: [`DomainPoP ${c.valid()}`, `DomainPoP ${c.valid()}`] }),
    expect: bad('multiple_credentials'),
  },
  {
    name: 'two Authorization headers differing in name case',
    build: (c) => ({ headers: [['authorization', `DomainPoP ${c.valid()}`], ['AUTHORIZATION', `DomainPoP ${c.valid()}`]] }),
    expect: bad('multiple_credentials'),
  },
  {
    name: 'two credentials joined by a comma in one field',
    build: (c) => ({ authorization: [`DomainPoP ${c.valid()}, DomainPoP ${c.valid()}`] }),
    expect: bad('malformed_proof'),
  },
  {
    name: 'proof over 8 KiB (validly signed)',
    build: (c) => ({ token: c.forge({ claims: { pad: 'x'.repeat(9000) } }) }),
    expect: bad('proof_too_large'),
  },
  { name: 'JWS JSON serialization (RFC 7515 §7.2)', build: (c) => ({ authorization: [`DomainPoP ${flattenedJson(c.valid())}`] }), expect: bad('malformed_proof') },
  { name: 'four segments', build: (c) => { const tok = c.valid(); return { token: `${tok}.${tok.split('.')[2]}` } }, expect: bad('malformed_proof') },
  { name: 'two segments', build: (c) => ({ token: c.valid().split('.').slice(0, 2).join('.') }), expect: bad('malformed_proof') },
  {
    // An empty third segment never reaches the alg check: step 1 wants three
    // non-empty base64url segments. The next row sends `none` with bytes.
    name: 'alg none with an empty signature (unsecured JWS, RFC 7515 §A.5)',
    build: (c) => { const p = c.parts(); return { token: compactJws({ ...p.header, alg: 'none' }, p.claims, '') } },
    expect: bad('malformed_proof'),
  },
  {
    name: 'payload not JSON',
    build: (c) => ({ token: signSegments(c.alice.key, b64json(c.parts().header), b64url('iss=alice.test')) }),
    expect: bad('malformed_proof'),
  },
  {
    name: 'header a JSON array',
    build: (c) => { const p = c.parts(); return { token: signSegments(c.alice.key, b64json([p.header]), b64json(p.claims)) } },
    expect: bad('malformed_proof'),
  },
  {
    name: 'payload JSON null',
    build: (c) => ({ token: signSegments(c.alice.key, b64json(c.parts().header), b64json(null)) }),
    expect: bad('malformed_proof'),
  },
  {
    name: 'signature segment with base64 padding',
    build: (c) => ({ token: `${c.valid()}==` }),
    expect: bad('malformed_proof'),
  },
  {
    name: 'standard base64 alphabet (+ and /) in a segment',
    build: (c) => { const tok = c.valid(); return { token: withSignature(tok, decodeCompact(tok).signature.toString('base64').replace(/=+$/, '') + '+/') } },
    expect: bad('malformed_proof'),
  },

  // Step 2: typ, alg allowlist (exact case), forbidden header members, kid shape.
  { name: 'alg none with a signature', build: (c) => ({ token: c.forge({ header: { alg: 'none' } }) }), expect: invalid('proof_alg_unsupported') },
  {
    // RFC 8725 §2.1: a verifier that lets the token pick the algorithm would
    // use the public key's bytes as an HMAC secret, which everybody has.
    name: 'HS256 keyed with the public JWK (algorithm confusion)',
    build: (c) => { const p = c.parts(); return { token: hmacJws(publicKeySecrets(c.alice.key).jwkJson, { ...p.header, alg: 'HS256' }, p.claims) } },
    expect: invalid('proof_alg_unsupported'),
  },
  {
    name: 'HS256 keyed with the public key PEM (algorithm confusion)',
    build: (c) => { const p = c.parts(); return { token: hmacJws(publicKeySecrets(c.alice.key).pem, { ...p.header, alg: 'HS256' }, p.claims) } },
    expect: invalid('proof_alg_unsupported'),
  },
  { name: 'alg in lower case (es256)', build: (c) => ({ token: c.forge({ header: { alg: 'es256' } }) }), expect: invalid('proof_alg_unsupported') },
  { name: 'alg RS256 (not on the allowlist)', build: (c) => ({ token: c.forge({ header: { alg: 'RS256' } }) }), expect: invalid('proof_alg_unsupported') },
  { name: 'alg missing', build: (c) => ({ token: c.forge({ header: { alg: undefined } }) }), expect: invalid('proof_alg_unsupported') },
  { name: 'alg an array', build: (c) => ({ token: c.forge({ header: { alg: ['ES256'] } }) }), expect: invalid('proof_alg_unsupported') },
  { name: 'no typ', build: (c) => ({ token: c.forge({ header: { typ: undefined } }) }), expect: invalid('proof_typ_invalid') },
  { name: 'typ JWT', build: (c) => ({ token: c.forge({ header: { typ: 'JWT' } }) }), expect: invalid('proof_typ_invalid') },
  { name: 'typ dpop+jwt (a DPoP proof replayed here)', build: (c) => ({ token: c.forge({ header: { typ: 'dpop+jwt' } }) }), expect: invalid('proof_typ_invalid') },
  { name: 'typ at+jwt (an access token)', build: (c) => ({ token: c.forge({ header: { typ: 'at+jwt' } }) }), expect: invalid('proof_typ_invalid') },
  { name: 'typ domainpop-session+jwt (a session proof)', build: (c) => ({ token: c.forge({ header: { typ: 'domainpop-session+jwt' } }) }), expect: invalid('proof_typ_invalid') },
  {
    // JSON.parse makes "__proto__" an own member; typ must not be found through it.
    name: 'typ only inside a "__proto__" member',
    build: (c) => {
      const { typ, ...rest } = c.parts().header
      const headerJson = `{"__proto__":{"typ":${JSON.stringify(typ)}},${JSON.stringify(rest).slice(1)}`
      return { token: signSegments(c.alice.key, b64url(headerJson), b64json(c.parts().claims)) }
    },
    expect: invalid('proof_typ_invalid'),
  },
  {
    name: 'jwk header member (an embedded key to trust)',
    build: (c) => ({ token: c.forge({ header: { jwk: c.alice.key.publicJwk } }) }),
    expect: invalid('proof_header_forbidden'),
  },
  { name: 'x5c header member', build: (c) => ({ token: c.forge({ header: { x5c: ['MIIBszCCAVmgAwIBAgIUQ'] } }) }), expect: invalid('proof_header_forbidden') },
  {
    name: 'x5u header member',
    build: (c) => ({ token: c.forge({ header: { x5u: `https://alice.test:${c.keyHostPort}/.well-known/domainpop/cert.pem` } }) }),
    expect: invalid('proof_header_forbidden'),
  },
  { name: 'crit header member', build: (c) => ({ token: c.forge({ header: { crit: ['exp'], exp: 1 } }) }), expect: invalid('proof_header_forbidden') },
  { name: 'b64: false (RFC 7797 unencoded payload)', build: (c) => ({ token: c.forge({ header: { b64: false, crit: ['b64'] } }) }), expect: invalid('proof_header_forbidden') },
  { name: 'zip header member', build: (c) => ({ token: c.forge({ header: { zip: 'DEF' } }) }), expect: invalid('proof_header_forbidden') },
  { name: 'kid missing', build: (c) => ({ token: c.forge({ header: { kid: undefined } }) }), expect: invalid('proof_kid_invalid') },
  { name: 'kid not a thumbprint ("key-1")', build: (c) => ({ token: c.forge({ header: { kid: 'key-1' } }) }), expect: invalid('proof_kid_invalid') },
  {
    name: 'kid a thumbprint with base64 padding',
    build: (c) => ({ token: c.forge({ header: { kid: `${c.alice.key.kid}=` } }) }),
    expect: invalid('proof_kid_invalid'),
  },
  {
    name: 'kid a thumbprint in standard base64 (+ and /)',
    build: (c) => ({ token: c.forge({ header: { kid: c.alice.key.kid.replace(/.$/, '+') } }) }),
    expect: invalid('proof_kid_invalid'),
  },
]

await runTable(t, rows)

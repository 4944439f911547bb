// Hostile DomainPoP proofs, part 4: authorization before fetching, the key,
// the signature and replay (PROTOCOL.md §2.3 steps 5–8). The 403 rows must
// cause no key fetch; the later rows are well-formed proofs whose key is
// fetched and then found wanting.

import t from 'tap'
import { runTable, allowed, forbidden, invalidProof as invalid, type Row, type RowCtx, type HostileRequest } from './hostile-proofs-runner.js'
import {
  b64json, decodeCompact, derEncodeEcdsa, flipSignatureBit, malleateEs256, randomB64url, signPssWithSalt, truncateSignature, withSignature,
} from '../helpers/forge.js'

/** Sends `token` once as a control (must be 200), then hands it back for the row to replay. */
async function spend(c: RowCtx, token: string, req: Omit<HostileRequest, 'token'> = {}): Promise<string> {
  const first = await c.send({ ...req, token })
  if (first.status !== 200) throw new Error(`the first use of the proof was refused: ${first.status} ${first.body}`)
  return token
}

const rows: Row[] = [
  { name: 'control: a valid ES256 proof', build: (c) => ({ token: c.valid() }), expect: allowed() },
  { name: 'control: alice may write /reports/**', build: (c) => ({ method: 'POST', path: '/reports/q3', token: c.valid({ method: 'POST', path: '/reports/q3' }) }), expect: allowed() },
  {
    name: 'control: a valid PS256 proof',
    build: async (c) => { const k = await c.mint('alice.test', 'PS256'); return { token: c.valid({}, k) } },
    expect: allowed(),
  },

  // Step 5: authorize before fetching. A stranger's proof costs no fetch.
  {
    name: 'bob.test on /foo (ACL: alice.test only) → 403, nothing fetched',
    build: async (c) => { const bob = await c.mint('bob.test'); return { token: c.valid({}, bob) } },
    expect: forbidden,
  },
  {
    name: 'eu.alice.test on /foo (a subdomain is another identity) → 403',
    build: async (c) => { const eu = await c.mint('eu.alice.test'); return { token: c.valid({}, eu) } },
    expect: forbidden,
  },
  { name: 'alice.test writing a read-only rule → 403', build: (c) => ({ method: 'POST', token: c.valid({ method: 'POST' }) }), expect: forbidden },
  { name: 'alice.test on a path no rule matches → 403', build: (c) => ({ path: '/admin', token: c.valid({ path: '/admin' }) }), expect: forbidden },

  // Step 6: the JWK whose thumbprint equals kid, in the document at jku.
  {
    name: 'kid of another key (valid thumbprint shape) → key_not_found',
    build: async (c) => {
      const other = await c.mint('alice.test')
      // Signed by `other`, naming its kid, but pointing at alice's one-key document.
      return { token: c.valid({ keyUrl: c.alice.keyUrl }, other) }
    },
    expect: invalid('key_not_found'),
  },
  { name: 'kid random (thumbprint shape)', build: (c) => ({ token: c.forge({ header: { kid: randomB64url(32) } }) }), expect: invalid('key_not_found') },
  {
    name: 'jku naming a document the domain does not have → key_fetch_status',
    build: (c) => ({ token: c.forge({ header: { jku: c.alice.keyUrl.replace(c.alice.key.kid, randomB64url(32)) } }) }),
    expect: invalid('key_fetch_status'),
  },

  // §2.1: the document itself. Each is served by alice.test's own key host.
  {
    name: 'key document holding the private key (d) → rejected whole',
    build: async (c) => {
      const jwk = { ...(c.alice.key.privateKey.export({ format: 'jwk' }) as Record<string, unknown>), use: 'sig' }
      return { token: c.forge({ header: { jku: await c.publishJwk('alice.test', jwk) } }) }
    },
    expect: invalid('key_document_invalid'),
  },
  {
    name: 'key document holding a symmetric key (kty oct)',
    build: async (c) => ({ token: c.forge({ header: { jku: await c.publishJwk('alice.test', { kty: 'oct', k: randomB64url(32) }) } }) }),
    expect: invalid('key_document_invalid'),
  },
  {
    // RFC 7517 §4.4: a document that names an alg for the key binds it to that alg.
    name: 'key document binds the key to ES384; proof says ES256',
    build: async (c) => ({ token: c.forge({ header: { jku: await c.publishJwk('alice.test', { ...c.alice.key.publicJwk, alg: 'ES384', use: 'sig' }) } }) }),
    expect: invalid('proof_signature_invalid'),
  },

  // Step 7: signature, with the key's type checked against alg (RFC 8725 §3.1).
  {
    name: 'signature by another key (alice\'s jku and kid)',
    build: async (c) => { const other = await c.mint('alice.test'); return { token: c.sign(c.parts(), other) } },
    expect: invalid('proof_signature_invalid'),
  },
  {
    name: 'PS256 with a zero-length salt (RFC 7518 §3.5: salt = hash size)',
    build: async (c) => { const rsa = await c.mint('alice.test', 'PS256'); return { token: signPssWithSalt(rsa.key, c.parts({}, rsa), 0) } },
    expect: invalid('proof_signature_invalid'),
  },
  { name: 'signature truncated by 4 bytes', build: (c) => ({ token: truncateSignature(c.valid(), 4) }), expect: invalid('proof_signature_invalid') },
  { name: 'signature with one bit flipped', build: (c) => ({ token: flipSignatureBit(c.valid()) }), expect: invalid('proof_signature_invalid') },
  {
    // CVE-2022-21449 ("psychic signatures"): r = s = 0 must never verify.
    name: 'signature all zero (r = s = 0)',
    build: (c) => ({ token: withSignature(c.valid(), Buffer.alloc(64)) }),
    expect: invalid('proof_signature_invalid'),
  },
  { name: 'signature DER-encoded instead of raw r‖s (RFC 7518 §3.4)', build: (c) => ({ token: derEncodeEcdsa(c.valid()) }), expect: invalid('proof_signature_invalid') },
  {
    // Same request, new jti: a signature lifted from one proof onto another's claims.
    name: 'claims swapped after signing',
    build: (c) => {
      const { headerSegment, signature } = decodeCompact(c.valid())
      return { token: `${headerSegment}.${b64json(c.parts().claims)}.${signature.toString('base64url')}` }
    },
    expect: invalid('proof_signature_invalid'),
  },
  { name: 'ES256 signature claiming alg ES384 (P-256 key)', build: (c) => ({ token: c.forge({ header: { alg: 'ES384' } }) }), expect: invalid('proof_signature_invalid') },
  { name: 'ES256 signature claiming alg PS256 (P-256 key)', build: (c) => ({ token: c.forge({ header: { alg: 'PS256' } }) }), expect: invalid('proof_signature_invalid') },
  { name: 'ES256 signature claiming alg EdDSA (P-256 key)', build: (c) => ({ token: c.forge({ header: { alg: 'EdDSA' } }) }), expect: invalid('proof_signature_invalid') },
  {
    name: 'Ed25519 key used with alg ES256',
    build: async (c) => { const ed = await c.mint('alice.test', 'Ed25519'); return { token: c.forge({ header: { alg: 'ES256' } }, ed) } },
    expect: invalid('proof_signature_invalid'),
  },
  {
    name: 'RSA key used with alg ES256',
    build: async (c) => { const rsa = await c.mint('alice.test', 'PS256'); return { token: c.forge({ header: { alg: 'ES256' } }, rsa) } },
    expect: invalid('proof_signature_invalid'),
  },

  // Step 8: jti single use per identity, whatever the signature bytes.
  { name: 'replay: the same proof twice', build: async (c) => ({ token: await spend(c, c.valid()) }), expect: invalid('proof_replayed') },
  {
    // The replay store's check-and-record must be atomic (§2.3 step 8).
    name: 'replay race: ten copies at once, then one more',
    build: async (c) => {
      const token = c.valid()
      const statuses = (await Promise.all(Array.from({ length: 10 }, () => c.send({ token })))).map((r) => r.status)
      if (statuses.filter((s) => s === 200).length !== 1) throw new Error(`expected exactly one 200 among concurrent copies, got ${statuses.join(' ')}`)
      return { token }
    },
    expect: invalid('proof_replayed'),
  },
  {
    // (r, n − s) verifies too: replay must be keyed on jti, not on the bytes.
    name: 'replay with a malleated ECDSA signature (r, n − s)',
    build: async (c) => ({ token: malleateEs256(await spend(c, c.valid())) }),
    expect: invalid('proof_replayed'),
  },
  {
    name: 'replay of a jti in a new proof for another path',
    build: async (c) => {
      await spend(c, c.valid({ jti: 'reused-jti-1' }))
      return { path: '/reports/q3', token: c.valid({ jti: 'reused-jti-1', path: '/reports/q3' }) }
    },
    expect: invalid('proof_replayed'),
  },
  {
    name: 'replay of a jti under a fresh nonce',
    build: async (c) => {
      await spend(c, c.valid({ jti: 'reused-jti-2' }))
      return { token: c.valid({ jti: 'reused-jti-2', nonce: await c.challenge('main') }) }
    },
    expect: invalid('proof_replayed'),
  },
  {
    name: 'replay of a jti with a new key of the same identity',
    build: async (c) => {
      await spend(c, c.valid({ jti: 'reused-jti-3' }))
      const other = await c.mint('alice.test')
      return { token: c.valid({ jti: 'reused-jti-3' }, other) }
    },
    expect: invalid('proof_replayed'),
  },
]

await runTable(t, rows)

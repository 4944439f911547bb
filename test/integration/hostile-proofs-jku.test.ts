// Hostile DomainPoP proofs, part 2: where the key is to be fetched from (`jku`,
// PROTOCOL.md §2.4 URL policy) and who is asking (`iss`, the one strict
// identity parser). All of it is §2.3 step 2: refused with no key fetch, even
// though evil.test and eu.alice.test really resolve to the test key host, so
// a gateway that fetched would be seen doing it.

import t from 'tap'
import { domainToASCII } from 'node:url'
import { runTable, allowed, forbidden, invalidProof as invalid, type Row, type RowCtx } from './hostile-proofs-runner.js'

const PREFIX = '/.well-known/domainpop/'
/** The proof of this row with jku replaced. */
const jku = (c: RowCtx, url: string) => ({ token: c.forge({ header: { jku: url } }) })
/** https://<host>:<key host port><path> */
const at = (c: RowCtx, host: string, path: string) => `https://${host}:${c.keyHostPort}${path}`
const keysPath = (c: RowCtx) => `${PREFIX}keys/${c.alice.key.kid}`
/** The proof of this row with iss replaced and jku moved to that host (so only iss is wrong). */
const iss = (c: RowCtx, value: string) => ({ token: c.forge({ claims: { iss: value }, header: { jku: at(c, value, keysPath(c)) } }) })

const rows: Row[] = [
  { name: 'control: a valid ES256 proof', build: (c) => ({ token: c.valid() }), expect: allowed() },
  {
    name: 'control: a valid ES384 proof',
    build: async (c) => { const k = await c.mint('alice.test', 'ES384'); return { token: c.valid({}, k) } },
    expect: allowed(),
  },

  // jku host must be exactly the identity.
  {
    name: 'jku host ≠ iss (a key on evil.test for alice.test)',
    build: async (c) => { const evil = await c.mint('evil.test'); return { token: c.valid({ identity: 'alice.test' }, evil) } },
    expect: invalid('proof_jku_invalid'),
  },
  {
    name: 'jku on a subdomain of iss (eu.alice.test for alice.test)',
    build: async (c) => { const eu = await c.mint('eu.alice.test'); return { token: c.valid({ identity: 'alice.test' }, eu) } },
    expect: invalid('proof_jku_invalid'),
  },
  {
    name: 'jku on the parent of iss (alice.test for eu.alice.test)',
    build: (c) => ({ token: c.forge({ claims: { iss: 'eu.alice.test' } }) }),
    expect: invalid('proof_jku_invalid'),
  },
  { name: 'jku with userinfo alice.test@evil.test', build: (c) => jku(c, at(c, 'alice.test@evil.test', keysPath(c))), expect: invalid('proof_jku_invalid') },
  { name: 'jku with userinfo evil.test@alice.test', build: (c) => jku(c, at(c, 'evil.test@alice.test', keysPath(c))), expect: invalid('proof_jku_invalid') },
  { name: 'jku host in upper case', build: (c) => jku(c, at(c, 'ALICE.test', keysPath(c))), expect: invalid('proof_jku_invalid') },
  { name: 'jku host with a trailing dot', build: (c) => jku(c, at(c, 'alice.test.', keysPath(c))), expect: invalid('proof_jku_invalid') },
  {
    name: 'jku host as the IP the identity resolves to',
    build: (c) => jku(c, at(c, '127.0.0.1', keysPath(c))),
    expect: invalid('proof_jku_invalid'),
  },

  // Scheme, port, shape.
  { name: 'jku over http', build: (c) => jku(c, c.alice.keyUrl.replace('https:', 'http:')), expect: invalid('proof_jku_invalid') },
  { name: 'jku scheme in upper case (HTTPS://)', build: (c) => jku(c, c.alice.keyUrl.replace('https:', 'HTTPS:')), expect: invalid('proof_jku_invalid') },
  {
    // The strict gateway allows only port 443; the same URL passes on the
    // main gateway (allowPorts: any), as the controls show.
    name: 'jku on a port the operator does not allow (allowPorts: [443])',
    gateway: 'strict',
    build: (c) => ({ token: c.valid() }),
    expect: invalid('proof_jku_invalid'),
  },
  {
    name: 'jku port with a leading zero',
    build: (c) => jku(c, `https://alice.test:0${c.keyHostPort}${keysPath(c)}`),
    expect: invalid('proof_jku_invalid'),
  },
  { name: 'jku with a fragment', build: (c) => jku(c, `${c.alice.keyUrl}#k`), expect: invalid('proof_jku_invalid') },
  { name: 'jku with a query', build: (c) => jku(c, `${c.alice.keyUrl}?v=1`), expect: invalid('proof_jku_invalid') },
  { name: 'jku over 2048 characters', build: (c) => jku(c, `${c.alice.keyUrl}${'a'.repeat(2100)}`), expect: invalid('proof_jku_invalid') },
  { name: 'jku missing', build: (c) => ({ token: c.forge({ header: { jku: undefined } }) }), expect: invalid('proof_jku_invalid') },
  { name: 'jku not a string', build: (c) => ({ token: c.forge({ header: { jku: { href: c.alice.keyUrl } } }) }), expect: invalid('proof_jku_invalid') },
  { name: 'jku relative (no scheme or host)', build: (c) => jku(c, keysPath(c)), expect: invalid('proof_jku_invalid') },
  { name: 'jku with a tab inside (URL parsers strip it)', build: (c) => jku(c, at(c, 'alice.test', `/.well-known/domain\tpop/keys/${c.alice.key.kid}`)), expect: invalid('proof_jku_invalid') },

  // Path: under keys.pathPrefix, with no way out of it.
  { name: 'jku outside the path prefix (/keys/<kid>)', build: (c) => jku(c, at(c, 'alice.test', `/keys/${c.alice.key.kid}`)), expect: invalid('proof_jku_invalid') },
  {
    name: 'jku under a look-alike prefix (/.well-known/domainpop-uploads/)',
    build: (c) => jku(c, at(c, 'alice.test', `/.well-known/domainpop-uploads/keys/${c.alice.key.kid}`)),
    expect: invalid('proof_jku_invalid'),
  },
  { name: 'jku the prefix without its slash', build: (c) => jku(c, at(c, 'alice.test', '/.well-known/domainpop')), expect: invalid('proof_jku_invalid') },
  {
    name: 'jku escaping the prefix with dot segments',
    build: (c) => jku(c, at(c, 'alice.test', `${PREFIX}../../uploads/${c.alice.key.kid}`)),
    expect: invalid('proof_jku_invalid'),
  },
  {
    name: 'jku escaping the prefix with encoded dot segments (%2e%2e)',
    build: (c) => jku(c, at(c, 'alice.test', `${PREFIX}%2e%2e/%2e%2e/uploads/${c.alice.key.kid}`)),
    expect: invalid('proof_jku_invalid'),
  },
  {
    name: 'jku with an encoded slash in the path (%2F)',
    build: (c) => jku(c, at(c, 'alice.test', `${PREFIX}keys%2F..%2F..%2F..%2Fuploads%2F${c.alice.key.kid}`)),
    expect: invalid('proof_jku_invalid'),
  },
  {
    name: 'jku with backslashes (WHATWG turns them into slashes)',
    build: (c) => jku(c, at(c, 'alice.test', `${PREFIX}..\\..\\uploads\\${c.alice.key.kid}`)),
    expect: invalid('proof_jku_invalid'),
  },

  // iss: one strict identity parser; anything it rejects is rejected, not cleaned up.
  { name: 'iss in upper case', build: (c) => iss(c, 'Alice.test'), expect: invalid('proof_iss_invalid') },
  { name: 'iss with a trailing dot', build: (c) => iss(c, 'alice.test.'), expect: invalid('proof_iss_invalid') },
  { name: 'iss an IP literal', build: (c) => iss(c, '127.0.0.1'), expect: invalid('proof_iss_invalid') },
  { name: 'iss a single label (localhost)', build: (c) => iss(c, 'localhost'), expect: invalid('proof_iss_invalid') },
  {
    name: 'iss with a Cyrillic look-alike letter (U-label)',
    build: (c) => iss(c, '\u0430lice.test'),
    expect: invalid('proof_iss_invalid'),
  },
  {
    // As an A-label it is a well-formed identity, just not alice.test: the ACL
    // refuses it before anything is fetched.
    name: 'iss the punycode of that look-alike → 403, nothing fetched',
    build: (c) => iss(c, domainToASCII('\u0430lice.test')),
    expect: forbidden,
  },
  { name: 'iss with a port', build: (c) => ({ token: c.forge({ claims: { iss: 'alice.test:443' } }) }), expect: invalid('proof_iss_invalid') },
  { name: 'iss with userinfo', build: (c) => ({ token: c.forge({ claims: { iss: 'evil.test@alice.test' } }) }), expect: invalid('proof_iss_invalid') },
  { name: 'iss a URL', build: (c) => ({ token: c.forge({ claims: { iss: 'https://alice.test' } }) }), expect: invalid('proof_iss_invalid') },
  { name: 'iss with surrounding spaces', build: (c) => ({ token: c.forge({ claims: { iss: ' alice.test ' } }) }), expect: invalid('proof_iss_invalid') },
  { name: 'iss an array', build: (c) => ({ token: c.forge({ claims: { iss: ['alice.test'] } }) }), expect: invalid('proof_iss_invalid') },
  { name: 'iss missing', build: (c) => ({ token: c.forge({ claims: { iss: undefined } }) }), expect: invalid('proof_iss_invalid') },
]

await runTable(t, rows)

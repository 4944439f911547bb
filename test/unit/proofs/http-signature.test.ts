// RFC 9421 against its own Appendix B: the signature base byte for byte,
// B.2.5 (hmac-sha256) and B.2.6 (ed25519) signed and verified byte for byte,
// B.2.1–B.2.4 and B.3 verified (RSA-PSS and ECDSA are not deterministic);
// the RFC 9530 digests of the B.2 messages; and the base's refusals.

import t from 'tap'
import { parseSignatures } from '../../../src/proofs/http-signature/input.js'
import { componentValue, encodeQueryPart, requestView, signatureBase } from '../../../src/proofs/http-signature/base.js'
import { algorithmFor, keyFits, signBase, verifyBase, type HttpSignatureAlgorithm } from '../../../src/proofs/http-signature/algorithms.js'
import { signMessage } from '../../../src/proofs/http-signature/sign.js'
import { checkContentDigest, contentDigestHeader } from '../../../src/proofs/content-digest.js'
import { GatewayError } from '../../../src/errors.js'
import { B2_BODY, B2_RESPONSE_BODY, b2Request, b2Response, KEYS, pub, VECTORS } from '../../helpers/rfc9421.js'

const ALG: Record<string, HttpSignatureAlgorithm> = {
  'sig-b21': 'rsa-pss-sha512', 'sig-b22': 'rsa-pss-sha512', 'sig-b23': 'rsa-pss-sha512',
  'sig-b24': 'ecdsa-p256-sha256', 'sig-b25': 'hmac-sha256', 'sig-b26': 'ed25519', ttrp: 'ecdsa-p256-sha256',
}
const verifyKey = (label: string) => (label === 'sig-b25' ? KEYS.secret : pub(VECTORS.find((v) => v.label === label)!.key))

const code = (fn: () => unknown): string => {
  try {
    fn()
    return 'ok'
  } catch (err) {
    return err instanceof GatewayError ? `${err.code}: ${err.detail}` : `not a GatewayError: ${String(err)}`
  }
}

for (const v of VECTORS) {
  t.test(`RFC 9421 ${v.name} verifies`, async (t) => {
    const [entry, ...rest] = parseSignatures([v.input], [v.signature])
    t.equal(rest.length, 0)
    t.equal(entry!.label, v.label)
    const base = signatureBase(v.message(), entry!.components, entry!.rawParams)
    if (v.base !== undefined) t.equal(base, v.base, 'the signature base is the RFC\'s, byte for byte')
    t.ok(base.endsWith(`"@signature-params": ${v.input.slice(v.label.length + 1)}`), 'the params line re-serializes the received inner list')
    const alg = ALG[v.label]!
    t.equal(algorithmFor(verifyKey(v.label)), alg, 'the key implies the vector\'s algorithm')
    t.ok(await verifyBase(alg, verifyKey(v.label), base, entry!.signature), 'the published signature verifies')
    const flipped = Buffer.from(entry!.signature)
    flipped[flipped.length - 1]! ^= 1
    t.notOk(await verifyBase(alg, verifyKey(v.label), base, flipped), 'one flipped bit does not')
    t.notOk(await verifyBase(alg, verifyKey(v.label), base.replace('created=1618884473', 'created=1618884474'), entry!.signature), 'nor does another base')
  })
}

t.test('B.2.5 (hmac-sha256) and B.2.6 (ed25519) sign byte for byte', async (t) => {
  for (const label of ['sig-b25', 'sig-b26']) {
    const v = VECTORS.find((x) => x.label === label)!
    const [entry] = parseSignatures([v.input], [v.signature])
    const signed = signMessage(v.message(), {
      label, components: entry!.components, alg: ALG[label]!, key: v.key, order: ['created', 'keyid'],
      params: { created: entry!.params.created, keyid: entry!.params.keyid },
    })
    t.equal(signed.signatureInput, v.input, `${label}: Signature-Input`)
    t.equal(signed.signature, v.signature, `${label}: Signature`)
    t.equal(signed.base, v.base, `${label}: base`)
  }
})

t.test('B.2.1–B.2.4 and B.3: our own RSA-PSS and ECDSA signatures verify over the same bases', async (t) => {
  for (const v of VECTORS.filter((x) => ['rsa-pss-sha512', 'ecdsa-p256-sha256'].includes(ALG[x.label]!))) {
    const [entry] = parseSignatures([v.input], [v.signature])
    const base = signatureBase(v.message(), entry!.components, entry!.rawParams)
    t.ok(await verifyBase(ALG[v.label]!, verifyKey(v.label), base, signBase(ALG[v.label]!, v.key, base)), v.label)
  }
})

t.test('rsa-v1_5-sha256 (B.1.1 key) signs and verifies, and the key fits only RSA algorithms', async (t) => {
  const base = '"@method": GET\n"@signature-params": ("@method");created=1'
  t.ok(await verifyBase('rsa-v1_5-sha256', pub(KEYS.rsa), base, signBase('rsa-v1_5-sha256', KEYS.rsa, base)))
  t.notOk(await verifyBase('rsa-pss-sha512', pub(KEYS.rsa), base, signBase('rsa-v1_5-sha256', KEYS.rsa, base)), 'v1.5 is not PSS')
  t.notOk(keyFits(pub(KEYS.ed25519), 'ecdsa-p256-sha256'))
  t.notOk(keyFits(pub(KEYS.ecc), 'ed25519'))
  t.notOk(keyFits(KEYS.secret, 'ed25519'))
  t.notOk(keyFits(pub(KEYS.ed25519), 'hmac-sha256'), 'an asymmetric key is never an HMAC secret')
  t.notOk(await verifyBase('hmac-sha256', pub(KEYS.ed25519), base, Buffer.alloc(32)))
  t.notOk(keyFits(pub(KEYS.rsaPss), 'rsa-v1_5-sha256'), 'a key with the RSASSA-PSS OID is PSS only')
})

t.test('RFC 9530: the B.2 request and response digests match their bodies', async (t) => {
  t.equal(code(() => checkContentDigest(b2Request().fieldValues('content-digest')![0]!, Buffer.from(B2_BODY))), 'ok')
  t.equal(code(() => checkContentDigest(b2Response().fieldValues('content-digest')![0]!, Buffer.from(B2_RESPONSE_BODY))), 'ok')
  t.match(code(() => checkContentDigest(b2Request().fieldValues('content-digest')![0]!, Buffer.from(B2_BODY + ' '))), /^content_digest_mismatch/)
  t.equal(code(() => checkContentDigest(contentDigestHeader(Buffer.from('x'), ['sha-256', 'sha-512']), Buffer.from('x'))), 'ok')
  t.match(code(() => checkContentDigest('md5=:AAAA:', Buffer.from('x'))), /^content_digest_mismatch: Content-Digest holds no sha-256/, 'only deprecated algorithms: nothing checked, refused')
  t.match(code(() => checkContentDigest(`sha-256=:${Buffer.alloc(32).toString('base64')}:, ${contentDigestHeader(Buffer.from('x'), ['sha-512'])}`, Buffer.from('x'))), /^content_digest_mismatch.*sha-256/, 'every supported member must match')
  t.match(code(() => checkContentDigest('sha-256="abc"', Buffer.from('x'))), /^signature_malformed/)
  t.match(code(() => checkContentDigest('sha-256=:not base64', Buffer.from('x'))), /^signature_malformed/)
  t.equal(contentDigestHeader(Buffer.from(B2_BODY), ['sha-512']), b2Request().fieldValues('content-digest')![0])
})

t.test('derived components (RFC 9421 §2.2) from a raw request', async (t) => {
  const m = requestView({ method: 'POST', url: 'https://WWW.Example.com:443/path?param=value&foo=bar&baz=batman&qux=', headers: {} })
  const v = (name: string, params: Array<[string, string | boolean]> = []) => componentValue(m, [name, new Map(params)])
  t.equal(v('@method'), 'POST')
  t.equal(v('@scheme'), 'https')
  t.equal(v('@authority'), 'www.example.com', '§2.2.3: lowercased, default port removed')
  t.equal(v('@target-uri'), 'https://www.example.com/path?param=value&foo=bar&baz=batman&qux=')
  t.equal(v('@request-target'), '/path?param=value&foo=bar&baz=batman&qux=')
  t.equal(v('@path'), '/path')
  t.equal(v('@query'), '?param=value&foo=bar&baz=batman&qux=')
  t.equal(v('@query-param', [['name', 'baz']]), 'batman')
  t.equal(v('@query-param', [['name', 'qux']]), '', 'an empty value is an empty string')
  const noQuery = requestView({ method: 'GET', url: 'https://example.com/', headers: {} })
  t.equal(componentValue(noQuery, ['@query', new Map()]), '?', '§2.2.7: no query is "?"')
  const q = requestView({ method: 'GET', url: 'https://example.com/?var=this%20is%20a%20big%0Avalue&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something', headers: {} })
  t.equal(componentValue(q, ['@query-param', new Map([['name', 'var']])]), 'this%20is%20a%20big%0Avalue', '§2.2.8 example')
  t.equal(componentValue(q, ['@query-param', new Map([['name', 'bar']])]), 'with%20plus%20whitespace')
  t.equal(componentValue(q, ['@query-param', new Map([['name', 'fa%C3%A7ade%22%3A%20']])]), 'something')
  t.equal(encodeQueryPart('a b*-._~'), 'a%20b*-._%7E')
})

t.test('header field components (§2.1): sf, key, bs, req', async (t) => {
  const m = requestView({
    method: 'GET', url: 'https://example.com/',
    headers: { 'Example-Dict': ' a=1,    b=2;x=1;y=2,   c=(a   b   c)', 'Example-Header': ['value, with, lots', 'of, commas'], 'X-Empty': '' },
  })
  t.equal(componentValue(m, ['example-dict', new Map()]), 'a=1,    b=2;x=1;y=2,   c=(a   b   c)', 'trimmed, not re-serialized')
  t.equal(componentValue(m, ['example-dict', new Map([['sf', true]])]), 'a=1, b=2;x=1;y=2, c=(a b c)', '§2.1.1 strict serialization')
  t.equal(componentValue(m, ['example-dict', new Map([['key', 'b']])]), '2;x=1;y=2', '§2.1.2 one member')
  t.equal(componentValue(m, ['example-dict', new Map([['key', 'c']])]), '(a b c)')
  t.equal(componentValue(m, ['example-header', new Map()]), 'value, with, lots, of, commas', 'two lines joined with ", "')
  t.equal(componentValue(m, ['example-header', new Map([['bs', true]])]), ':dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:', '§2.1.3 each line its own byte sequence')
  t.equal(componentValue(m, ['x-empty', new Map()]), '', 'an empty field is an empty value')
  const resp = { status: 503, fieldValues: () => undefined, request: m }
  t.equal(componentValue(resp, ['@authority', new Map([['req', true]])]), 'example.com', '§2.4 req reads the request')
})

t.test('the base refuses what it cannot build (§2.5: the verifier MUST fail)', async (t) => {
  const m = requestView({ method: 'GET', url: 'https://example.com/?a=1&a=2&b=x', headers: { 'X-Nl': 'a', 'Example-Dict': 'a=1', Plain: 'x' } })
  const refused = (id: [string, Array<[string, string | boolean]>]) => code(() => componentValue(m, [id[0], new Map(id[1])]))
  t.match(refused(['x-missing', []]), /^signature_malformed: a covered header field is absent/)
  t.match(refused(['@query-param', [['name', 'a']]]), /occurs more than once/, 'a repeated query parameter is never picked')
  t.match(refused(['@query-param', [['name', 'z']]]), /absent/)
  t.match(refused(['@query-param', []]), /needs a name/)
  t.match(refused(['@status', []]), /response component/)
  t.match(refused(['@nope', []]), /not one RFC 9421 defines/)
  t.match(refused(['@method', [['sf', true]]]), /takes no field parameters/)
  t.match(refused(['@path', [['name', 'x']]]), /unexpected parameter/)
  t.match(refused(['plain', [['sf', true]]]), /structured type is not known/)
  t.match(refused(['plain', [['tr', true]]]), /trailer/)
  t.match(refused(['plain', [['bs', true], ['sf', true]]]), /bs cannot be combined/)
  t.match(refused(['example-dict', [['key', 'zz']]]), /member is absent/)
  t.match(refused(['Plain', []]), /lowercase field name/)
  t.match(refused(['@authority', [['req', true]]]), /only for responses/)
  t.match(code(() => signatureBase(m, [['@method', new Map()], ['@method', new Map()]], new Map())), /covered twice/)
  t.match(code(() => signatureBase(m, [['@signature-params', new Map()]], new Map())), /cannot be a covered component/)
  const nl = { ...m, fieldValues: (n: string) => (n === 'x-nl' ? ['a\n"@method": POST'] : m.fieldValues(n)) }
  t.match(code(() => signatureBase(nl, [['x-nl', new Map()]], new Map())), /control or non-ASCII/, 'a newline in a value cannot forge a line')
})

t.test('Signature-Input and Signature parsing', async (t) => {
  const ok = 'sig1=("@method");created=1;keyid="k"'
  const sig = 'sig1=:AAAA:'
  t.equal(parseSignatures([ok], [sig])[0]!.params.keyid, 'k')
  t.match(code(() => parseSignatures([ok], undefined)), /both be present/)
  t.match(code(() => parseSignatures(['sig1=("@method"'], [sig])), /^signature_malformed: Signature-Input is not a valid structured field/)
  t.match(code(() => parseSignatures([ok], ['sig2=:AAAA:'])), /different labels/)
  t.match(code(() => parseSignatures(['sig1="x"'], [sig])), /inner list/)
  t.match(code(() => parseSignatures([ok], ['sig1="AAAA"'])), /byte sequence/)
  t.match(code(() => parseSignatures(['sig1=(a);created=1'], [sig])), /must be a string/)
  t.match(code(() => parseSignatures(['sig1=("@method");created="1"'], [sig])), /created must be a non-negative integer/)
  t.match(code(() => parseSignatures(['sig1=("@method");created=-1'], [sig])), /non-negative/)
  t.match(code(() => parseSignatures(['sig1=("@method");keyid=1'], [sig])), /keyid must be a string/)
  t.match(code(() => parseSignatures(['sig1=();created=1'], ['sig1=:AAAA:'])), /^ok/)
  const many = Array.from({ length: 9 }, (_, i) => `s${i}=()`).join(', ')
  t.match(code(() => parseSignatures([many], [many.replaceAll('()', ':AAAA:')])), /more than 8 signatures/)
  const wide = '(' + Array.from({ length: 33 }, (_, i) => `"h${i}"`).join(' ') + ')'
  t.match(code(() => parseSignatures([`sig1=${wide}`], [sig])), /more than 32 covered components/)
  t.equal(parseSignatures(['sig1=("@method");created=1', 'sig2=()'], ['sig1=:AAAA:, sig2=:AAAA:']).length, 2, 'two field lines combine')
})

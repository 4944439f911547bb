#!/usr/bin/env node
// Gets a DPoP-bound access token from an authorization server (docs/dpop.md):
// the client-credentials grant with a DPoP proof (RFC 9449 §5) signed by the
// client's private JWK (as `popgate keygen` writes it), answering the
// server's use_dpop_nonce once (§8). Prints the access token.
//
//   node examples/dpop-token.mjs --issuer https://alice.example:8443 \
//     --client-id reports-client --client-secret-file client-secret \
//     --key alice-key/private.jwk.json --resource http://127.0.0.1:8080 \
//     [--cacert ca.pem] [--resolve alice.example=127.0.0.1]
//
// The token is bound to that key: present it with
// `popgate fetch URL --dpop-token @FILE --key alice-key/private.jwk.json`.

import { readFileSync } from 'node:fs'
import { randomUUID } from 'node:crypto'
import { parseArgs } from 'node:util'
import { Agent, fetch } from 'undici'
import { SignJWT, importJWK } from 'jose'

const { values: o } = parseArgs({ options: {
  issuer: { type: 'string' }, 'client-id': { type: 'string' }, 'client-secret-file': { type: 'string' },
  key: { type: 'string' }, resource: { type: 'string' }, scope: { type: 'string' },
  cacert: { type: 'string' }, resolve: { type: 'string' },
} })
for (const k of ['issuer', 'client-id', 'client-secret-file', 'key', 'resource']) {
  if (!o[k]) { console.error(`--${k} is required`); process.exit(2) }
}

// --resolve HOST=ADDRESS, as curl's: connect there, still verify the certificate for HOST.
const [rHost, rAddr] = (o.resolve ?? '').split('=')
const lookup = (hostname, options, cb) => {
  if (hostname !== rHost) return import('node:dns').then((dns) => dns.lookup(hostname, options, cb))
  if (options.all) return cb(null, [{ address: rAddr, family: rAddr.includes(':') ? 6 : 4 }])
  cb(null, rAddr, rAddr.includes(':') ? 6 : 4)
}
const dispatcher = new Agent({ connect: { ...(o.cacert ? { ca: readFileSync(o.cacert, 'utf8') } : {}), ...(o.resolve ? { lookup } : {}) } })

const jwk = JSON.parse(readFileSync(o.key, 'utf8'))
const alg = jwk.alg ?? (jwk.kty === 'OKP' ? 'EdDSA' : jwk.kty === 'RSA' ? 'PS256' : jwk.crv === 'P-384' ? 'ES384' : 'ES256')
const privateKey = await importJWK(jwk, alg)
const { d, p, q, dp, dq, qi, ...publicJwk } = jwk
for (const k of ['kid', 'alg', 'use', 'key_ops']) delete publicJwk[k]

const meta = await (await fetch(new URL('/.well-known/openid-configuration', o.issuer), { dispatcher })).json()
if (meta.issuer !== new URL(o.issuer).origin && meta.issuer !== o.issuer) throw new Error(`the server says its issuer is ${meta.issuer}`)

const proof = (nonce) => new SignJWT({ htm: 'POST', htu: meta.token_endpoint, jti: randomUUID(), ...(nonce ? { nonce } : {}) })
  .setProtectedHeader({ typ: 'dpop+jwt', alg, jwk: publicJwk }).setIssuedAt().sign(privateKey)

const basic = Buffer.from(`${encodeURIComponent(o['client-id'])}:${encodeURIComponent(readFileSync(o['client-secret-file'], 'utf8').trim())}`).toString('base64')
const body = new URLSearchParams({ grant_type: 'client_credentials', resource: o.resource, ...(o.scope ? { scope: o.scope } : {}) })
const ask = async (nonce) => fetch(meta.token_endpoint, {
  method: 'POST', dispatcher, body,
  headers: { authorization: `Basic ${basic}`, 'content-type': 'application/x-www-form-urlencoded', dpop: await proof(nonce) },
})

let res = await ask()
if (res.status === 400 && res.headers.get('dpop-nonce')) res = await ask(res.headers.get('dpop-nonce'))
const answer = await res.json()
if (!res.ok || answer.token_type?.toLowerCase() !== 'dpop') {
  console.error(`no DPoP-bound token: ${res.status} ${JSON.stringify(answer)}`)
  process.exit(1)
}
process.stdout.write(answer.access_token + '\n')
await dispatcher.close()

#!/usr/bin/env node
// A small RFC 9449 authorization server for trying DPoP with popgate
// (docs/dpop.md): oidc-provider (npm i oidc-provider@8) over HTTPS, issuing
// DPoP-bound JWT access tokens (RFC 9068, `cnf.jkt`) to one client by the
// client-credentials grant, with the gateway's publicOrigin as the audience
// (RFC 8707 resource indicator).
//
//   node examples/dpop-as.mjs --issuer https://alice.example:8443 \
//     --cert as.pem --key as.key --resource http://127.0.0.1:8080 \
//     --client-id reports-client --client-secret-file client-secret
//
// Listens on 127.0.0.1 at the issuer's port. For a first look only: the
// signing keys are made at start and forgotten at exit, and nothing but the
// one client exists. A real identity domain runs its own (Keycloak,
// oidc-provider with a store, any RFC 9449 server).

import https from 'node:https'
import { readFileSync } from 'node:fs'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import { parseArgs } from 'node:util'
import Provider from 'oidc-provider'

const { values: o } = parseArgs({ options: {
  issuer: { type: 'string' }, cert: { type: 'string' }, key: { type: 'string' }, resource: { type: 'string' },
  'client-id': { type: 'string' }, 'client-secret-file': { type: 'string' }, scope: { type: 'string', default: 'reports:read' },
  listen: { type: 'string', default: '127.0.0.1' },
} })
for (const k of ['issuer', 'cert', 'key', 'resource', 'client-id', 'client-secret-file']) {
  if (!o[k]) { console.error(`--${k} is required`); process.exit(2) }
}
const issuer = new URL(o.issuer)
if (issuer.protocol !== 'https:' || issuer.pathname !== '/') { console.error('--issuer must be https://host[:port] with no path'); process.exit(2) }

const signing = [
  { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'as-es256', alg: 'ES256', use: 'sig' },
]
const provider = new Provider(issuer.origin, {
  clients: [{
    client_id: o['client-id'], client_secret: readFileSync(o['client-secret-file'], 'utf8').trim(),
    token_endpoint_auth_method: 'client_secret_basic', grant_types: ['client_credentials'],
    redirect_uris: [], response_types: [], dpop_bound_access_tokens: true, id_token_signed_response_alg: 'ES256',
  }],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => o.resource,
      useGrantedResource: () => true,
      // `aud` of every token: the gateway's publicOrigin (popgate checks it: dpop.audience).
      getResourceServerInfo: (_ctx, resource) => {
        if (resource !== o.resource) throw new Error(`unknown resource ${resource}`)
        return { scope: o.scope, audience: resource, accessTokenTTL: 300, accessTokenFormat: 'jwt', jwt: { sign: { alg: 'ES256' } } }
      },
    },
  },
  enabledJWA: { dPoPSigningAlgValues: ['ES256', 'ES384', 'EdDSA', 'PS256'] },
  jwks: { keys: signing },
  cookies: { keys: [randomBytes(16).toString('hex')] },
})
provider.on('server_error', (_ctx, err) => console.error('server error:', err.message))

const server = https.createServer({ cert: readFileSync(o.cert), key: readFileSync(o.key) }, provider.callback())
const port = Number(issuer.port || 443)
server.listen(port, o.listen, () => console.log(`authorization server ${issuer.origin} listening on ${o.listen}:${port}`))
const stop = () => server.close(() => process.exit(0))
process.on('SIGTERM', stop)
process.on('SIGINT', stop)

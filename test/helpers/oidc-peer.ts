// Real OAuth peers for interop tests (PROTOCOL.md §3): oidc-provider 8 as the
// identity domain's authorization server over HTTPS on loopback (test CA
// certificate for alice.test), issuing DPoP-bound JWT access tokens by client
// credentials; and an oauth4webapi client whose fetches are routed by a
// customFetch: the AS through an undici Agent that trusts the test CA and
// resolves the test hosts to 127.0.0.1, the gateway's public origin to its
// plain-http loopback listener. Nothing leaves 127.0.0.1.

import https from 'node:https'
import type { AddressInfo } from 'node:net'
import type { LookupFunction } from 'node:net'
import { generateKeyPairSync, randomBytes } from 'node:crypto'
import Provider from 'oidc-provider'
import * as oauth from 'oauth4webapi'
import { Agent, fetch as undiciFetch } from 'undici'
import { tlsFixtures } from './tls-fixtures.js'

export type AccessTokenAlg = 'RS256' | 'ES256'

export interface AuthorizationServer {
  readonly issuer: string
  /** Requests the AS received, as `METHOD path`. */
  readonly requests: string[]
  close(): Promise<void>
}

export const CLIENT_ID = 'svc-a'
export const CLIENT_SECRET = 'interop-secret-0123456789abcdef'
/** The gateway's own clients at the AS, for RFC 7662 introspection: by client_secret_basic, or by private_key_jwt with `gatewayJwk`. */
export const GATEWAY_CLIENT_ID = 'popgate'
export const GATEWAY_CLIENT_SECRET = 'gateway-secret-0123456789abcdef'
export const GATEWAY_JWT_CLIENT_ID = 'popgate-jwt'
/** oidc-provider's RFC 7662 endpoint (features.introspection) and RFC 7009 endpoint. */
export const INTROSPECTION_PATH = '/token/introspection'

/** oidc-provider on https://<host>:<port>, its JWKS holding an RSA and an EC key; access tokens for `resource` signed with `alg`. */
export async function startAuthorizationServer(opts: { host: string; resource: string; alg: AccessTokenAlg; scope?: string; accessTokenFormat?: 'jwt' | 'opaque'; gatewayJwk?: Record<string, unknown>; beforeHandle?: (req: import('node:http').IncomingMessage) => Promise<void> }): Promise<AuthorizationServer> {
  const requests: string[] = []
  let handler: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) | undefined
  const server = https.createServer({ key: tlsFixtures.keyPem, cert: tlsFixtures.certPem }, (req, res) => {
    requests.push(`${req.method} ${req.url}`)
    if (opts.beforeHandle) void opts.beforeHandle(req).then(() => handler!(req, res))
    else handler!(req, res)
  })
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r))
  const issuer = `https://${opts.host}:${(server.address() as AddressInfo).port}`
  const rsa = { ...generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' }), kid: 'as-rs256', alg: 'RS256', use: 'sig' }
  const ec = { ...generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' }), kid: 'as-es256', alg: 'ES256', use: 'sig' }
  const scope = opts.scope ?? 'api:read'
  const provider = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID, client_secret: CLIENT_SECRET, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], redirect_uris: [], response_types: [], dpop_bound_access_tokens: true,
    }, {
      client_id: GATEWAY_CLIENT_ID, client_secret: GATEWAY_CLIENT_SECRET, token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
    }, ...(opts.gatewayJwk ? [{
      client_id: GATEWAY_JWT_CLIENT_ID, token_endpoint_auth_method: 'private_key_jwt', token_endpoint_auth_signing_alg: 'ES256',
      jwks: { keys: [opts.gatewayJwk] }, grant_types: ['client_credentials'], redirect_uris: [], response_types: [],
    }] : [])],
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true },
      revocation: { enabled: true },
      dPoP: { enabled: true, nonceSecret: randomBytes(32), requireNonce: () => true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => opts.resource,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          if (resource !== opts.resource) throw new Error(`unknown resource ${resource}`)
          return { scope, audience: resource, accessTokenTTL: 300, accessTokenFormat: opts.accessTokenFormat ?? 'jwt', jwt: { sign: { alg: opts.alg } } }
        },
      },
    },
    enabledJWA: { dPoPSigningAlgValues: ['ES256', 'EdDSA'] },
    jwks: { keys: [rsa, ec] },
    cookies: { keys: [randomBytes(16).toString('hex')] },
    ttl: { ClientCredentials: 300 },
  })
  handler = provider.callback()
  return {
    issuer, requests,
    close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()) }),
  }
}

/** Each `hosts` name resolves to 127.0.0.1 (both lookup shapes: `all` or one address). */
const loopbackLookup = (hosts: readonly string[]): LookupFunction => (hostname, options, cb) => {
  if (!hosts.includes(hostname)) return cb(Object.assign(new Error(`not a test host: ${hostname}`), { code: 'ENOTFOUND' }), '', 4)
  if (options.all) return (cb as unknown as (e: null, a: { address: string; family: number }[]) => void)(null, [{ address: '127.0.0.1', family: 4 }])
  cb(null, '127.0.0.1', 4)
}

export interface SentRequest { readonly url: string; readonly method: string; readonly headers: Headers; readonly status: number }

/** What the gateway answered, with the challenges oauth4webapi parsed (it throws on any). */
export interface Outcome {
  readonly status: number
  readonly response: Response
  readonly challenges: readonly oauth.WWWAuthenticateChallenge[]
  /** Whether a use_dpop_nonce challenge was answered by sending again. */
  readonly retried: boolean
  readonly error?: oauth.WWWAuthenticateChallengeError
}

export interface PeerClient {
  /** Every request oauth4webapi sent, with the status it got. */
  readonly sent: SentRequest[]
  readonly dpop: oauth.DPoPHandle
  /** client_credentials with DPoP, retried once on use_dpop_nonce. */
  token(): Promise<oauth.TokenEndpointResponse>
  /** RFC 7009: the client revokes its own token at the AS. */
  revoke(token: string): Promise<void>
  /** `protectedResourceRequest` to the gateway's public origin, retried once on use_dpop_nonce. */
  get(accessToken: string, path: string): Promise<Outcome>
  close(): Promise<void>
}

/**
 * An oauth4webapi client of `issuer` (discovered over HTTPS) with a fresh
 * ES256 DPoP key (or `keys`); requests to `gatewayOrigin` go to `gatewayUrl` instead.
 */
export async function startPeerClient(opts: { issuer: string; hosts: readonly string[]; resource: string; gatewayOrigin: string; gatewayUrl: string; scope?: string; keys?: CryptoKeyPair }): Promise<PeerClient> {
  const agent = new Agent({ connect: { ca: tlsFixtures.caPem, lookup: loopbackLookup(opts.hosts) } })
  const sent: SentRequest[] = []
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  const customFetch = async (input: string, init: oauth.CustomFetchOptions<string, any>): Promise<Response> => {
    const url = new URL(input)
    const headers = new Headers(init.headers)
    let res: Response
    if (url.origin === opts.gatewayOrigin) {
      res = await (undiciFetch(opts.gatewayUrl + url.pathname + url.search, { ...init, headers, redirect: 'manual' } as never) as unknown as Promise<Response>)
    } else {
      if (url.protocol !== 'https:') throw new Error(`refusing ${url.href}`)
      res = await (undiciFetch(url, { ...init, headers, redirect: 'manual', dispatcher: agent } as never) as unknown as Promise<Response>)
    }
    sent.push({ url: url.href, method: init.method ?? 'GET', headers, status: res.status })
    return res
  }
  const fetchOpts = { [oauth.customFetch]: customFetch }

  const issuerUrl = new URL(opts.issuer)
  const as = await oauth.processDiscoveryResponse(issuerUrl, await oauth.discoveryRequest(issuerUrl, { ...fetchOpts, algorithm: 'oidc' }))
  const client: oauth.Client = { client_id: CLIENT_ID }
  const keys = opts.keys ?? await oauth.generateKeyPair('ES256')
  const dpop = oauth.DPoP(client, keys)
  const grant = () => oauth.clientCredentialsGrantRequest(as, client, oauth.ClientSecretBasic(CLIENT_SECRET),
    new URLSearchParams({ resource: opts.resource, scope: opts.scope ?? 'api:read' }), { ...fetchOpts, DPoP: dpop })

  return {
    sent, dpop,
    async token() {
      try {
        return await oauth.processClientCredentialsResponse(as, client, await grant())
      } catch (err) {
        if (!oauth.isDPoPNonceError(err)) throw err
        return await oauth.processClientCredentialsResponse(as, client, await grant())
      }
    },
    async revoke(token) {
      await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, oauth.ClientSecretBasic(CLIENT_SECRET), token, fetchOpts))
    },
    async get(accessToken, path) {
      const send = async (): Promise<Outcome> => {
        try {
          const response = await oauth.protectedResourceRequest(accessToken, 'GET', new URL(opts.gatewayOrigin + path), new Headers(), null, { ...fetchOpts, DPoP: dpop })
          return { status: response.status, response, challenges: [], retried: false }
        } catch (err) {
          if (!(err instanceof oauth.WWWAuthenticateChallengeError)) throw err
          return { status: err.status, response: err.response, challenges: err.cause, retried: false, error: err }
        }
      }
      const first = await send()
      // The handle has cached the gateway's DPoP-Nonce from the challenge.
      if (first.error && oauth.isDPoPNonceError(first.error)) return { ...(await send()), retried: true }
      return first
    },
    close: () => agent.close(),
  }
}

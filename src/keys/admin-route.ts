// The key records on the admin listener (issue 25; `popgate keys list|approve`):
//   GET  /keys                              every identity's known and pinned keys
//   GET  /keys/<identity>                   one identity's
//   POST /keys/approve/<identity>/<thumb>   approve a held key (newKeys: hold)
// The admin listener has no authentication (docs/security.md G19), and an
// approval admits a key: keep the listener on loopback or a private network
// (docs/security.md, "Key trust"). An identity the ACL's identities: does
// not name has nothing to approve (404); a malformed identity or thumbprint
// is a 400; the records unreachable, a 503.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { isGatewayError } from '../errors.js'
import { KeyTrustInputError, type KeyTrust } from './trust.js'

export const KEYS_PATH = '/keys'
export const APPROVE_PREFIX = '/keys/approve/'

/** Answers the request when its path is a keys route (returns true), else leaves it (false). */
export function handleKeys(req: IncomingMessage, res: ServerResponse, path: string, current: () => KeyTrust): boolean {
  if (path !== KEYS_PATH && !path.startsWith(KEYS_PATH + '/')) return false
  const trust = current()
  const send = (status: number, body: unknown) => {
    const text = JSON.stringify(body) + '\n'
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) })
    res.end(req.method === 'HEAD' ? undefined : text)
  }
  const fail = (err: unknown) => {
    if (err instanceof KeyTrustInputError) return send(err.status, { error: err.message })
    if (isGatewayError(err) && err.code === 'replay_store_unavailable') return send(503, { error: 'the key records are unreachable (the replay store); try again' })
    send(500, { error: 'the key records could not be read' })
  }
  if (path.startsWith(APPROVE_PREFIX)) {
    if (req.method !== 'POST') {
      res.setHeader('allow', 'POST')
      send(405, { error: 'use POST' })
      return true
    }
    const rest = path.slice(APPROVE_PREFIX.length).split('/')
    if (rest.length !== 2) { send(400, { error: 'use POST /keys/approve/<identity>/<thumbprint>' }); return true }
    trust.approve(decodeURIComponent(rest[0]!), decodeURIComponent(rest[1]!)).then((key) => send(200, key), fail)
    return true
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    res.setHeader('allow', 'GET, HEAD')
    send(405, { error: 'use GET' })
    return true
  }
  const identity = path === KEYS_PATH ? undefined : decodeURIComponent(path.slice(KEYS_PATH.length + 1))
  trust.list(identity).then((keys) => send(200, { keys }), fail)
  return true
}

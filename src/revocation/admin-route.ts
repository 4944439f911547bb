// `POST /sessions/revoke/<identity>` on the admin listener: sets the
// identity's not-before time to the gateway's now, shared with every replica
// when the replay store is Redis. The admin listener has no authentication
// (docs/security.md G19): this is its one state-changing route, and it can
// only make things stricter — a revoked identity's next proof mints a fresh
// ticket — so someone on the admin network can cost clients one extra
// signature, never gain access.

import type { IncomingMessage, ServerResponse } from 'node:http'
import { identityProblem } from '../identity/domain.js'
import type { Revocations } from './types.js'

export const REVOKE_PREFIX = '/sessions/revoke/'

/** Answers the request when its path is the revoke route (returns true), else leaves it (false). */
export function handleRevoke(req: IncomingMessage, res: ServerResponse, path: string, revocations: Revocations | undefined, now: () => number = Date.now): boolean {
  if (!path.startsWith(REVOKE_PREFIX)) return false
  const send = (status: number, body: object) => {
    const text = JSON.stringify(body) + '\n'
    res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) })
    res.end(text)
  }
  if (req.method !== 'POST') {
    res.setHeader('allow', 'POST')
    send(405, { error: 'use POST' })
    return true
  }
  const identity = path.slice(REVOKE_PREFIX.length)
  const why = identityProblem(identity)
  if (why) { send(400, { error: `not an identity: ${why}` }); return true }
  if (!revocations) { send(503, { error: 'sessions are not enabled on this gateway' }); return true }
  const at = now()
  revocations.revoke(identity, at).then(
    () => send(200, { identity, notBefore: new Date(at).toISOString() }),
    () => send(503, { error: 'the revocation could not be shared (the replay store is unreachable); try again' }),
  )
  return true
}

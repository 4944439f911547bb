// Fetch one key document over the safe Agent (PROTOCOL.md §2.4).
// Reads: a URL that already passed checkKeyUrl. Returns: a 200 response whose
// head passed the response policy and whose body is at most maxBytes.
// Throws: GatewayError key_fetch_* (never anything else).
//
// One deadline (timeoutMs) covers DNS, connect, TLS, headers and body. No
// redirects are followed, no cookies or credentials are sent, and the body is
// read only while it stays under the cap.

import { errors as undiciErrors, type Agent } from 'undici'
import { GatewayError, isGatewayError } from '../errors.js'
import { createKeyAgent, safeCode, type SafeConnectOptions } from './agent.js'
import { checkResponseHead } from './response-policy.js'
import type { FetchedDocument, KeysConfig } from './types.js'

export interface KeyFetcher {
  fetchDocument(url: URL, signal?: AbortSignal): Promise<FetchedDocument>
  close(): Promise<void>
}

export type KeyFetcherSeams = Pick<SafeConnectOptions, 'lookupHost' | 'openSocket'>

const REQUEST_HEADERS = {
  accept: 'application/jwk-set+json, application/json',
  'user-agent': 'popgate',
} as const

export function createKeyFetcher(cfg: KeysConfig, seams?: KeyFetcherSeams): KeyFetcher {
  const agent: Agent = createKeyAgent(cfg, seams)
  let closed = false

  async function fetchDocument(url: URL, signal?: AbortSignal): Promise<FetchedDocument> {
    if (closed) throw new GatewayError('key_fetch_failed', 'key fetcher is closed')
    const httpAllowed = url.protocol === 'http:' && cfg.allowHttp.includes(url.hostname)
    if ((url.protocol !== 'https:' && !httpAllowed) || url.username !== '' || url.password !== '') {
      throw new GatewayError('proof_jku_invalid', 'jku is not a fetchable https URL')
    }
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; controller.abort() }, cfg.timeoutMs)
    const onAbort = (): void => controller.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    if (signal?.aborted) controller.abort()
    try {
      const res = await agent.request({
        origin: url.origin,
        path: url.pathname + url.search,
        method: 'GET',
        headers: REQUEST_HEADERS,
        signal: controller.signal,
      })
      try {
        checkResponseHead(res.statusCode, res.headers, cfg.maxBytes)
      } catch (err) {
        // Drop the connection rather than drain a body we will not use.
        res.body.on('error', () => {}).destroy()
        throw err
      }
      const chunks: Buffer[] = []
      let total = 0
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        total += chunk.length
        // Stop at the first byte over the cap; leaving the loop destroys the body and its connection.
        if (total > cfg.maxBytes) throw new GatewayError('key_fetch_too_large', `key document is larger than ${cfg.maxBytes} bytes`)
        chunks.push(chunk)
      }
      return { status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks, total) }
    } catch (err) {
      throw classify(err, timedOut, cfg.timeoutMs)
    } finally {
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
    }
  }

  return {
    fetchDocument,
    async close() {
      closed = true
      await agent.destroy()
    },
  }
}

/** Every failure becomes one §2.4 code; the raw error stays in `cause` for logs. */
function classify(err: unknown, timedOut: boolean, timeoutMs: number): GatewayError {
  if (timedOut) return new GatewayError('key_fetch_timeout', `key host did not answer within ${timeoutMs} ms`, { cause: err })
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGatewayError(e)) return e
  }
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new GatewayError('key_fetch_timeout', `key host did not answer within ${timeoutMs} ms`, { cause: err })
  }
  if (err instanceof undiciErrors.RequestAbortedError || (err as { name?: string } | null)?.name === 'AbortError') {
    return new GatewayError('key_fetch_failed', 'key fetch was cancelled', { cause: err })
  }
  return new GatewayError('key_fetch_failed', `could not fetch the key document (${safeCode(err)})`, { cause: err })
}

// The safe fetcher: one outbound request over the safe Agent (PROTOCOL.md §2.4).
// Reads: a URL that its caller's policy already accepted (checkKeyUrl for a
// DomainPoP jku; a pinned issuer URL later). Returns: a 200 response whose
// head passed the response policy for the call's MediaProfile and whose body
// is at most the cap. Throws: GatewayError key_fetch_* (never anything else,
// and nothing specific to one credential scheme).
//
// GET for documents (key sets, RFC 8414 metadata); POST with a body and its
// Content-Type for the one exchange that needs it (RFC 7662 introspection).
// One deadline (timeoutMs) covers DNS, connect, TLS, headers and body. No
// redirects are followed, no cookies are sent, credentials only when a POST
// names them (introspection's client authentication), and the body is read
// only while it stays under the cap.

import { errors as undiciErrors, type Agent, type Dispatcher } from 'undici'
import { GatewayError, isGatewayError } from '../errors.js'
import { createKeyAgent, safeCode, type SafeConnectOptions } from './agent.js'
import { checkResponseHead, JWK_SET_PROFILE } from './response-policy.js'
import type { FetchedDocument, FetchRequest, KeysConfig } from './types.js'

export interface SafeFetcher {
  /** One request; see FetchRequest. */
  fetch(request: FetchRequest, signal?: AbortSignal): Promise<FetchedDocument>
  /** GET a key set (JWK_SET_PROFILE): the DomainPoP key document. */
  fetchDocument(url: URL, signal?: AbortSignal): Promise<FetchedDocument>
  close(): Promise<void>
}

/** The name this module had when it fetched key documents only. */
export type KeyFetcher = SafeFetcher

export type KeyFetcherSeams = Pick<SafeConnectOptions, 'lookupHost' | 'openSocket'>

const USER_AGENT = 'popgate'

export function createSafeFetcher(cfg: KeysConfig, seams?: KeyFetcherSeams): SafeFetcher {
  const agent: Agent = createKeyAgent(cfg, seams)
  let closed = false

  async function fetch(request: FetchRequest, signal?: AbortSignal): Promise<FetchedDocument> {
    if (closed) throw new GatewayError('key_fetch_failed', 'key fetcher is closed')
    const { url, profile } = request
    const maxBytes = request.maxBytes ?? cfg.maxBytes
    const method = request.method ?? 'GET'
    // The caller's URL policy normally refused these already; this is the
    // fetch layer's own floor, whoever the caller is.
    const httpAllowed = url.protocol === 'http:' && cfg.allowHttp.includes(url.hostname)
    if ((url.protocol !== 'https:' && !httpAllowed) || url.username !== '' || url.password !== '') {
      throw new GatewayError('key_fetch_failed', 'the URL is not a fetchable https URL')
    }
    if ((method === 'POST') !== (request.body !== undefined)) throw new GatewayError('key_fetch_failed', 'a POST needs a body and a GET has none')
    if (request.authorization !== undefined && method !== 'POST') throw new GatewayError('key_fetch_failed', 'credentials are sent with a POST only')
    const controller = new AbortController()
    let timedOut = false
    const timer = setTimeout(() => { timedOut = true; controller.abort() }, cfg.timeoutMs)
    const onAbort = (): void => controller.abort()
    signal?.addEventListener('abort', onAbort, { once: true })
    if (signal?.aborted) controller.abort()
    try {
      const options: Dispatcher.RequestOptions = {
        origin: url.origin,
        path: url.pathname + url.search,
        method,
        headers: request.body === undefined
          ? { accept: profile.accept, 'user-agent': USER_AGENT }
          : {
            accept: profile.accept, 'user-agent': USER_AGENT, 'content-type': request.body.contentType,
            ...(request.authorization !== undefined ? { authorization: request.authorization } : {}),
          },
        body: request.body?.bytes,
        signal: controller.signal,
      }
      const res = await agent.request(options)
      try {
        checkResponseHead(res.statusCode, res.headers, maxBytes, profile)
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
        if (total > maxBytes) throw new GatewayError('key_fetch_too_large', `key document is larger than ${maxBytes} bytes`)
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
    fetch,
    fetchDocument: (url, signal) => fetch({ url, profile: JWK_SET_PROFILE }, signal),
    async close() {
      closed = true
      await agent.destroy()
    },
  }
}

/** The name this factory had when it fetched key documents only. */
export const createKeyFetcher = createSafeFetcher

/** Every failure becomes one §2.4 code; the raw error stays in `cause` for logs. */
function classify(err: unknown, timedOut: boolean, timeoutMs: number): GatewayError {
  if (timedOut) return new GatewayError('key_fetch_timeout', `key host did not answer within ${timeoutMs} ms`, { cause: err, outage: true })
  for (let e: unknown = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (isGatewayError(e)) return e
  }
  if (err instanceof undiciErrors.HeadersTimeoutError || err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.ConnectTimeoutError) {
    return new GatewayError('key_fetch_timeout', `key host did not answer within ${timeoutMs} ms`, { cause: err, outage: true })
  }
  if (err instanceof undiciErrors.RequestAbortedError || (err as { name?: string } | null)?.name === 'AbortError') {
    return new GatewayError('key_fetch_failed', 'key fetch was cancelled', { cause: err })
  }
  // Connection refused or reset, DNS failure, TLS failure: the host could not be reached (an outage, RFC 5861 §4).
  return new GatewayError('key_fetch_failed', `could not fetch the key document (${safeCode(err)})`, { cause: err, outage: true })
}

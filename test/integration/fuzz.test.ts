// A live fuzz run against a running gateway (bounded: FUZZ_MS, default 3 s;
// set FUZZ_MS=60000 for a longer run). Mutated and random requests — header
// bytes, huge headers, odd methods, broken proofs, truncated bodies, slow
// clients — over raw sockets. Expected: the process never crashes, never
// answers 5xx (the upstream is healthy), and nothing reaches the upstream
// on a protected path without a verified identity.

import t from 'tap'
import net from 'node:net'
import { randomBytes, randomInt } from 'node:crypto'
import { startUpstream, startTestGateway, rawRequest } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { signDomainPopProof } from '../../src/client/proof.js'

const ORIGIN = 'https://gw.test'
const FUZZ_MS = Number(process.env.FUZZ_MS ?? 3000)
const ALLOWED = new Set([200, 400, 401, 403, 408, 413, 429, 431])

const pick = <T>(xs: readonly T[]): T => xs[randomInt(xs.length)]!
const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'HEAD', 'OPTIONS', 'PATCH', 'TRACE', 'CONNECT', 'PROPFIND', 'get', 'G\x01T', 'X'.repeat(40)]
const TARGETS = ['/foo', '/public/x', '/healthz', '/reports/q3', '/public/../foo', '/foo%2fbar', '//foo', '/%2e%2e/x', '*', 'http://gw.test/foo', '/foo?x=1', '/public/%00', '/a\\b', '/reports/**', '/' + 'a/'.repeat(2000)]

function mutate(s: string): string {
  const b = Buffer.from(s)
  const n = 1 + randomInt(4)
  for (let i = 0; i < n && b.length > 0; i++) {
    const op = randomInt(4)
    const at = randomInt(b.length)
    if (op === 0) b[at] = randomInt(256)
    else if (op === 1) return b.subarray(0, at).toString('latin1')
    else if (op === 2) return b.toString('latin1') + randomBytes(randomInt(20)).toString('latin1')
    else b[at] = b[randomInt(b.length)]!
  }
  return b.toString('latin1')
}

function send(port: number, bytes: Buffer | string, opts: { slowMs?: number } = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1')
    let out = ''
    s.setTimeout(5000, () => s.destroy())
    s.on('data', (d) => { out += d.toString('latin1') })
    s.on('close', () => resolve(out))
    s.on('error', () => resolve(out))
    s.on('connect', () => {
      if (opts.slowMs) { s.write(typeof bytes === 'string' ? bytes.slice(0, 10) : bytes.subarray(0, 10)); return } // then stall
      s.end(bytes)
    })
  })
}

t.test(`fuzz for ${FUZZ_MS} ms`, async (t) => {
  const up = await startUpstream()
  const kh = await startKeyHost()
  const gw = await startTestGateway({
    upstream: up.url, publicOrigin: ORIGIN,
    extraConfig: `${keysConfig()}\ntimeouts:\n  clientHeaders: 1s\n  clientRequest: 2s\nlimits:\n  failedAuthPerClientPerMinute: 1000000\n  failedAuthPerIdentityPerMinute: 1000000`,
  })
  t.teardown(async () => { await gw.close(); await up.close(); await kh.close() })
  const { key, keyUrl } = await kh.publish('alice.test')
  const port = gw.gw.http.port
  let nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const proof = (path: string, method = 'GET') => signDomainPopProof(key, { identity: 'alice.test', keyUrl, audience: ORIGIN, method, path, nonce })

  const statuses = new Map<number, number>()
  let requests = 0
  const deadline = Date.now() + FUZZ_MS
  const worker = async () => {
    while (Date.now() < deadline) {
      requests++
      const kind = randomInt(8)
      const method = randomInt(3) === 0 ? pick(METHODS) : 'GET'
      const target = randomInt(3) === 0 ? mutate(pick(TARGETS)) : pick(TARGETS)
      const headers: string[] = ['Host: gw.test']
      if (kind <= 2) headers.push(`Authorization: DomainPoP ${kind === 0 ? proof('/foo') : mutate(proof('/foo'))}`)
      if (kind === 3) headers.push(`X-${'h'.repeat(randomInt(40000))}: x`)
      if (kind === 4) for (let i = 0; i < 200; i++) headers.push(`X-PoP-Identity-${i}: admin.test`)
      if (kind === 5) headers.push(mutate('X-PoP-Identity: admin.test'), mutate('Authorization: DomainPoP a.b.c'))
      let body = ''
      if (kind === 6) { headers.push('Content-Length: 1000'); body = 'short' } // truncated body
      const raw = `${method} ${target} HTTP/1.1\r\n${headers.join('\r\n')}\r\nConnection: close\r\n\r\n${body}`
      const out = await send(port, Buffer.from(raw, 'latin1'), { slowMs: kind === 7 && randomInt(4) === 0 ? 1 : undefined })
      const m = /^HTTP\/1\.1 (\d{3})/.exec(out)
      if (m) statuses.set(Number(m[1]), (statuses.get(Number(m[1])) ?? 0) + 1)
      if (randomInt(50) === 0) nonce = (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
    }
  }
  await Promise.all(Array.from({ length: 8 }, worker))
  const pool = gw.gw.holder.current.upstream.pool.stats
  t.equal(pool.running + pool.pending, 0, 'no upstream exchange is left hanging')
  t.comment(`finished after ${Date.now() - deadline + FUZZ_MS} ms`)
  t.comment(`sent ${requests} requests; statuses ${JSON.stringify(Object.fromEntries(statuses))}`)
  t.ok(requests > 50, 'the fuzzer actually ran')
  for (const status of statuses.keys()) t.ok(ALLOWED.has(status), `status ${status} is a documented answer`)
  t.equal((await rawRequest(gw.url, { path: '/healthz' })).status, 200, 'the gateway still serves after the run')
  const isPublic = (url: string) => { const p = url.split('?')[0]!; return p === '/public' || p.startsWith('/public/') || p === '/healthz' }
  const protectedSeen = up.seen.filter((s) => !isPublic(s.url))
  for (const s of protectedSeen) t.equal(s.headers['x-pop-identity'], 'alice.test', `upstream ${s.method} ${s.url.slice(0, 40)} carried a verified identity`)
  t.ok(up.seen.every((s) => !Object.keys(s.headers).some((h) => h.replaceAll('_', '-').startsWith('x-pop-') && !['x-pop-identity', 'x-pop-auth-method', 'x-pop-key-thumbprint'].includes(h))), 'no spoofed x-pop-* header reached the upstream')
  t.ok(up.seen.every((s) => s.headers['x-pop-identity'] === undefined || s.headers['x-pop-identity'] === 'alice.test'), 'only the verified identity ever appears')
})

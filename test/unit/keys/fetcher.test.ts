// The safe fetcher against a real HTTPS key host on 127.0.0.1. Tests that
// point names at non-loopback addresses use a guard `openSocket` that records
// the attempt and never touches the network, so a broken policy fails the
// test instead of reaching out.

import t from 'tap'
import { Socket } from 'node:net'
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls'
import { createKeyFetcher, createSafeFetcher, type KeyFetcherSeams } from '../../../src/keys/fetcher.js'
import { JSON_PROFILE } from '../../../src/keys/response-policy.js'
import type { OpenSocketOptions } from '../../../src/keys/agent.js'
import { GatewayError } from '../../../src/errors.js'
import { startKeyHost, json, never, stall, redirect, flood, keysConfig, newSigningKey, KEY_PATH } from '../../helpers/key-host.js'
import type { KeysConfig } from '../../../src/keys/index.js'

const host = await startKeyHost()
t.teardown(() => host.close())
const key = await newSigningKey()
const DOC = { keys: [key.jwk] }

/** Fetch once with a fresh fetcher; "ok" or "<code>: <detail>". */
async function fetchOutcome(cfg: KeysConfig, url: string, seams?: KeyFetcherSeams): Promise<{ outcome: string; ms: number; body?: Buffer }> {
  const fetcher = createKeyFetcher(cfg, seams)
  const started = performance.now()
  try {
    const doc = await fetcher.fetchDocument(new URL(url))
    return { outcome: 'ok', ms: performance.now() - started, body: doc.body }
  } catch (err) {
    const ms = performance.now() - started
    return { outcome: err instanceof GatewayError ? `${err.code}: ${err.detail}` : `not a GatewayError: ${String(err)}`, ms }
  } finally {
    await fetcher.close()
  }
}

/** An openSocket that records the attempt and fails without touching the network. */
function guard(): { seams: KeyFetcherSeams; calls: OpenSocketOptions[] } {
  const calls: OpenSocketOptions[] = []
  return {
    calls,
    seams: {
      openSocket: (o) => {
        calls.push(o)
        const s = new Socket()
        process.nextTick(() => s.destroy(Object.assign(new Error('guard: this test must not connect'), { code: 'GUARD' })))
        return s
      },
    },
  }
}

t.test('fetches a document over TLS with the resolve map and the extra CA', async (t) => {
  host.route('/.well-known/domainpop/ok', json(DOC))
  const before = host.count()
  const r = await fetchOutcome(keysConfig(), host.url('alice.test', '/.well-known/domainpop/ok'))
  t.equal(r.outcome, 'ok')
  t.same(JSON.parse(r.body!.toString()), DOC)
  t.equal(host.count(), before + 1)
  const seen = host.requests.at(-1)!
  t.equal(seen.method, 'GET')
  t.equal(seen.host, `alice.test:${host.port}`)
  t.equal(seen.headers.accept, 'application/jwk-set+json, application/json')
  t.equal(seen.headers['user-agent'], 'popgate')
  t.notOk('cookie' in seen.headers, 'no cookies')
  t.notOk('authorization' in seen.headers, 'no credentials')
})

t.test('the Node 20 lookup callback form without all:true works too', async (t) => {
  host.route('/.well-known/domainpop/ok', json(DOC))
  const allSeen: unknown[] = []
  const r = await fetchOutcome(keysConfig(), host.url('alice.test', '/.well-known/domainpop/ok'), {
    openSocket: (o) => {
      const options: ConnectionOptions & { autoSelectFamily: boolean } = {
        host: o.host,
        port: o.port,
        servername: o.servername,
        ca: o.ca ? [...o.ca] : undefined,
        autoSelectFamily: false,
        lookup: ((name: string, opts: { all?: boolean }, cb: never) => { allSeen.push(opts.all); o.lookup(name, opts, cb) }) as never,
      }
      return tlsConnect(options)
    },
  })
  t.equal(r.outcome, 'ok')
  t.same(allSeen.map(Boolean), [false], 'net asked for a single address, not all: true')
})

t.test('a key host that never answers hits the total timeout', async (t) => {
  host.route('/.well-known/domainpop/never', never())
  const r = await fetchOutcome(keysConfig({ timeoutMs: 200 }), host.url('alice.test', '/.well-known/domainpop/never'))
  t.match(r.outcome, /^key_fetch_timeout: /)
  t.ok(r.ms >= 150 && r.ms < 2000, `gave up after ${Math.round(r.ms)} ms`)
})

t.test('a body that stalls mid-way hits the same timeout', async (t) => {
  host.route('/.well-known/domainpop/stall', stall())
  const r = await fetchOutcome(keysConfig({ timeoutMs: 200 }), host.url('alice.test', '/.well-known/domainpop/stall'))
  t.match(r.outcome, /^key_fetch_timeout: /)
  t.ok(r.ms < 2000, `gave up after ${Math.round(r.ms)} ms`)
})

t.test('a huge body announced by Content-Length is refused before reading it', async (t) => {
  const f = flood(50 * 1024 * 1024, true)
  host.route('/.well-known/domainpop/huge-cl', f.route)
  const r = await fetchOutcome(keysConfig({ maxBytes: 64 * 1024 }), host.url('alice.test', '/.well-known/domainpop/huge-cl'))
  t.match(r.outcome, /^key_fetch_too_large: /)
  t.ok(f.bytesSent() < 50 * 1024 * 1024, 'the host did not get to send it all')
})

t.test('a huge chunked body is cut off as soon as it passes the cap', async (t) => {
  const f = flood(50 * 1024 * 1024, false)
  host.route('/.well-known/domainpop/huge-chunked', f.route)
  const r = await fetchOutcome(keysConfig({ maxBytes: 64 * 1024 }), host.url('alice.test', '/.well-known/domainpop/huge-chunked'))
  t.match(r.outcome, /^key_fetch_too_large: /)
  await new Promise((resolve) => setTimeout(resolve, 50)) // let the server see the hang-up
  t.ok(f.aborted(), 'the connection was dropped')
  t.ok(f.bytesSent() < 50 * 1024 * 1024, `stopped after ${f.bytesSent()} bytes were written`)
})

t.test('a body of exactly maxBytes is fine, one more byte is not', async (t) => {
  const cap = 1000
  const exact = JSON.stringify(DOC).padEnd(cap, ' ')
  host.route('/.well-known/domainpop/exact', json(exact))
  host.route('/.well-known/domainpop/over', json(exact + ' '))
  host.route('/.well-known/domainpop/over-chunked', (_q, res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.write(exact); res.end(' ') })
  t.equal((await fetchOutcome(keysConfig({ maxBytes: cap }), host.url('alice.test', '/.well-known/domainpop/exact'))).outcome, 'ok')
  t.match((await fetchOutcome(keysConfig({ maxBytes: cap }), host.url('alice.test', '/.well-known/domainpop/over'))).outcome, /^key_fetch_too_large/)
  t.match((await fetchOutcome(keysConfig({ maxBytes: cap }), host.url('alice.test', '/.well-known/domainpop/over-chunked'))).outcome, /^key_fetch_too_large/)
})

t.test('redirects are not followed', async (t) => {
  host.route('/.well-known/domainpop/target', json(DOC))
  for (const status of [301, 302, 307, 308]) {
    host.route('/.well-known/domainpop/moved', redirect(host.url('alice.test', '/.well-known/domainpop/target'), status))
    const r = await fetchOutcome(keysConfig(), host.url('alice.test', '/.well-known/domainpop/moved'))
    t.match(r.outcome, /^key_fetch_redirect: /, `${status}`)
  }
  t.equal(host.count('/.well-known/domainpop/target'), 0, 'the target was never requested')
})

t.test('non-200 statuses', async (t) => {
  for (const status of [500, 404, 204, 403]) {
    host.route('/.well-known/domainpop/status', json(DOC, { status }))
    const r = await fetchOutcome(keysConfig(), host.url('alice.test', '/.well-known/domainpop/status'))
    t.match(r.outcome, new RegExp(`^key_fetch_status: key host answered ${status}`), `${status}`)
  }
})

t.test('the content type is checked', async (t) => {
  for (const [contentType, expected] of [['text/html', /^key_fetch_content_type/], [null, /^key_fetch_content_type/], ['application/json; charset=utf-8', /^ok$/]] as const) {
    host.route('/.well-known/domainpop/type', json(DOC, { contentType }))
    const r = await fetchOutcome(keysConfig(), host.url('alice.test', '/.well-known/domainpop/type'))
    t.match(r.outcome, expected, String(contentType))
  }
})

t.test('without caFile the test CA is not trusted', async (t) => {
  host.route('/.well-known/domainpop/ok', json(DOC))
  const before = host.count()
  const r = await fetchOutcome(keysConfig({ caFile: undefined }), host.url('alice.test', '/.well-known/domainpop/ok'))
  t.match(r.outcome, /^key_fetch_failed: .*(UNABLE_TO_VERIFY|SELF_SIGNED|CERT)/)
  t.equal(host.count(), before, 'no request was sent')
})

t.test('a certificate for another name is refused', async (t) => {
  host.route('/.well-known/domainpop/ok', json(DOC))
  const before = host.count()
  const r = await fetchOutcome(keysConfig({ resolve: { 'mallory.test': '127.0.0.1' } }), host.url('mallory.test', '/.well-known/domainpop/ok'))
  t.match(r.outcome, /^key_fetch_failed: .*ALTNAME/)
  t.equal(host.count(), before)
})

t.test('the resolve map with private addresses refused: blocked, and the host sees nothing', async (t) => {
  host.route('/.well-known/domainpop/ok', json(DOC))
  const requests = host.count()
  const connections = host.connections
  const r = await fetchOutcome(keysConfig({ allowPrivateAddresses: false }), host.url('alice.test', '/.well-known/domainpop/ok'))
  t.match(r.outcome, /^key_fetch_blocked_address: key host resolves to a blocked address: loopback \(refused before connecting\)/)
  t.equal(host.count(), requests, 'zero requests')
  t.equal(host.connections, connections, 'zero connections')
})

t.test('names that resolve to blocked addresses are refused before any connect attempt', async (t) => {
  const cases: Array<[string, RegExp]> = [
    ['127.0.0.1', /loopback/],
    ['10.0.0.1', /private/],
    ['169.254.169.254', /link-local/],
    ['::1', /loopback/],
    ['::ffff:127.0.0.1', /IPv4-mapped loopback/],
    ['::ffff:a9fe:a9fe', /IPv4-mapped link-local/],
    ['100.64.0.1', /CGNAT/],
    ['fd00::1', /unique local/],
    ['0.0.0.0', /unspecified/],
  ]
  for (const [ip, why] of cases) {
    const g = guard()
    const r = await fetchOutcome(keysConfig({ allowPrivateAddresses: false, resolve: { 'alice.test': ip } }), host.url('alice.test', KEY_PATH), g.seams)
    t.match(r.outcome, /^key_fetch_blocked_address: .*before connecting/, ip)
    t.match(r.outcome, why, `${ip}: reason`)
    t.equal(g.calls.length, 0, `${ip}: no socket was opened`)
    t.ok(r.ms < 1000, `${ip}: refused in ${Math.round(r.ms)} ms`)
  }
})

t.test('the loopback cases also hold with the real socket opener', async (t) => {
  host.route(KEY_PATH, json(DOC))
  for (const ip of ['127.0.0.1', '::ffff:127.0.0.1', '::1']) {
    const connections = host.connections
    const r = await fetchOutcome(keysConfig({ allowPrivateAddresses: false, resolve: { 'alice.test': ip } }), host.url('alice.test', KEY_PATH))
    t.match(r.outcome, /^key_fetch_blocked_address: /, ip)
    t.equal(host.connections, connections, `${ip}: the host saw no connection`)
  }
})

t.test('the same names work when private addresses are allowed (the policy is what refuses)', async (t) => {
  host.route(KEY_PATH, json(DOC))
  for (const ip of ['127.0.0.1', '::ffff:127.0.0.1']) {
    const r = await fetchOutcome(keysConfig({ allowPrivateAddresses: true, resolve: { 'alice.test': ip } }), host.url('alice.test', KEY_PATH))
    t.equal(r.outcome, 'ok', ip)
  }
})

t.test('DNS answers: one blocked candidate refuses the whole name', async (t) => {
  const g = guard()
  const lookups: string[] = []
  const seams: KeyFetcherSeams = {
    ...g.seams,
    lookupHost: async (name) => {
      lookups.push(name)
      return [{ address: '93.184.216.34', family: 4 }, { address: '10.1.2.3', family: 4 }]
    },
  }
  const r = await fetchOutcome(keysConfig({ allowPrivateAddresses: false, resolve: {} }), host.url('alice.test', KEY_PATH), seams)
  t.same(lookups, ['alice.test'], 'DNS was asked, since the name is not in the resolve map')
  t.match(r.outcome, /^key_fetch_blocked_address: .*private.*before connecting/)
  t.equal(g.calls.length, 0)
})

t.test('a name that does not resolve is key_fetch_failed', async (t) => {
  const g = guard()
  const seams: KeyFetcherSeams = { ...g.seams, lookupHost: async () => { throw Object.assign(new Error('nope'), { code: 'ENOTFOUND' }) } }
  const r = await fetchOutcome(keysConfig({ resolve: {} }), host.url('alice.test', KEY_PATH), seams)
  t.equal(r.outcome, 'key_fetch_failed: key host name does not resolve (ENOTFOUND)')
  t.equal(g.calls.length, 0)
})

t.test('the socket opener only ever gets the vetted addresses', async (t) => {
  const g = guard()
  await fetchOutcome(keysConfig({ allowPrivateAddresses: false, resolve: { 'alice.test': '93.184.216.34' } }), host.url('alice.test', KEY_PATH), g.seams)
  t.equal(g.calls.length, 1)
  const o = g.calls[0]!
  t.equal(o.host, 'alice.test')
  t.equal(o.servername, 'alice.test')
  const all = await new Promise((resolve) => o.lookup('alice.test', { all: true }, ((_e: unknown, a: unknown) => resolve(a)) as never))
  t.same(all, [{ address: '93.184.216.34', family: 4 }])
  const one = await new Promise((resolve) => o.lookup('alice.test', {}, ((_e: unknown, a: unknown, f: unknown) => resolve([a, f])) as never))
  t.same(one, ['93.184.216.34', 4])
})

t.test('after connecting, the actual peer address is checked again (rebinding)', async (t) => {
  host.route(KEY_PATH, json(DOC))
  const requests = host.count()
  // DNS says a public address; the socket lands on loopback anyway.
  const seams: KeyFetcherSeams = {
    openSocket: (o) => tlsConnect({ host: '127.0.0.1', port: host.port, servername: o.servername, ca: o.ca ? [...o.ca] : undefined }),
  }
  const r = await fetchOutcome(keysConfig({ allowPrivateAddresses: false, resolve: { 'alice.test': '93.184.216.34' } }), host.url('alice.test', KEY_PATH), seams)
  t.match(r.outcome, /^key_fetch_blocked_address: key host connected to a blocked address: loopback \(refused after connecting\)/)
  t.equal(host.count(), requests, 'no request reached the host')
})

t.test('an IP-literal URL is classified too (net.connect skips lookup for literals)', async (t) => {
  const g = guard()
  const r = await fetchOutcome(keysConfig({ allowPrivateAddresses: false }), `https://127.0.0.1:${host.port}${KEY_PATH}`, g.seams)
  t.match(r.outcome, /^key_fetch_blocked_address: .*loopback/)
  t.equal(g.calls.length, 0)
})

t.test('plain http is refused unless the host is listed', async (t) => {
  const g = guard()
  const r = await fetchOutcome(keysConfig(), `http://alice.test:${host.port}${KEY_PATH}`, g.seams)
  t.match(r.outcome, /^key_fetch_failed: the URL is not a fetchable https URL/, 'a fetch-layer refusal, not a DomainPoP code')
  t.equal(g.calls.length, 0)
})

t.test('a closed fetcher refuses; an aborted fetch is cancelled', async (t) => {
  const fetcher = createKeyFetcher(keysConfig())
  await fetcher.close()
  await t.rejects(fetcher.fetchDocument(new URL(host.url('alice.test', KEY_PATH))), { code: 'key_fetch_failed' })

  host.route('/.well-known/domainpop/never', never())
  const f2 = createKeyFetcher(keysConfig())
  const ac = new AbortController()
  const p = f2.fetchDocument(new URL(host.url('alice.test', '/.well-known/domainpop/never')), ac.signal)
  setTimeout(() => ac.abort(), 50)
  await t.rejects(p, { code: 'key_fetch_failed', detail: /cancelled/ })
  await f2.close()
})

t.test('a POST carries its body and Content-Type; Accept and the types taken follow the call\'s profile', async (t) => {
  let received = ''
  host.route('/introspect', (req, res) => {
    req.setEncoding('utf8')
    req.on('data', (c: string) => { received += c })
    req.on('end', () => json({ active: true }, { contentType: 'application/json' })(req, res))
  })
  const fetcher = createSafeFetcher(keysConfig())
  t.teardown(() => fetcher.close())
  const url = new URL(host.url('bob.test', '/introspect')) // an issuer's endpoint, on a host the test certificate names
  const doc = await fetcher.fetch({ url, method: 'POST', profile: JSON_PROFILE, body: { contentType: 'application/x-www-form-urlencoded', bytes: 'token=abc' } })
  t.same(JSON.parse(doc.body.toString()), { active: true })
  const seen = host.requests.at(-1)!
  t.equal(seen.method, 'POST')
  t.equal(seen.headers['content-type'], 'application/x-www-form-urlencoded')
  t.equal(seen.headers.accept, 'application/json')
  t.equal(received, 'token=abc')

  host.route('/.well-known/domainpop/set', json(DOC))
  await t.rejects(fetcher.fetch({ url: new URL(host.url('alice.test', '/.well-known/domainpop/set')), profile: JSON_PROFILE }), { code: 'key_fetch_content_type' }, 'a key set is not what a JSON call takes')
  await t.rejects(fetcher.fetch({ url, method: 'POST', profile: JSON_PROFILE }), { code: 'key_fetch_failed' }, 'a POST without a body is refused before any request')
})

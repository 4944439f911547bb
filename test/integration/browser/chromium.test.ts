// The seed flow in a real browser: Debian's Chromium driven by playwright-core.
// The example page (examples/browser/) is served by the identity's own site
// at http://alice.localhost:PORT (a secure context; *.localhost is mapped to
// loopback), the gateway is http://bob.localhost:PORT with plain-http keys
// allowed for alice.localhost. The page makes a non-extractable key,
// publishes it same-origin, calls the gateway across origins and shows the
// upstream's answer (X-PoP-Identity: alice.localhost), ten more calls ride a
// ticket, a denied path and a tampered proof come back as the gateway's
// problem+json (not a CORS failure), a cookie session is asked for; a reload
// finds the same key in IndexedDB. A screenshot is saved
// (POPGATE_SCREENSHOT or the temp directory).
// Without /usr/bin/chromium the test is SKIPPED, loudly (`apt-get install -y chromium`).

import t from 'tap'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { AddressInfo } from 'node:net'
import { freePort, memoryLog } from '../../helpers/harness.js'
import { startGateway } from '../../../src/server.js'
import { createLogger } from '../../../src/log.js'
import { createMetrics } from '../../../src/metrics.js'
import { schemeRedactFields } from '../../../src/schemes/index.js'
import { createEchoUpstream } from '../../../src/cli/demo.js'
import { createBrowserSite } from '../../../src/cli/browser-site.js'
import { createMemoryKeyStore } from '../../../src/keyhost/store.js'

const CHROMIUM = '/usr/bin/chromium'
const ACL = `version: 1
rules:
  - id: api
    path: /api/**
    read: [alice.localhost]
    write: [alice.localhost]
  - id: admin
    path: /admin/**
    read: [admin.localhost]
`

interface Row { what: string; status: number; via: string; contentType: string | null; body: { code?: string; headers?: Record<string, string> } | string }

if (!existsSync(CHROMIUM)) {
  const why = `no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does) to run the browser end-to-end test`
  process.stderr.write(`\n*** SKIPPED browser end-to-end test: ${why} ***\n\n`)
  t.test('the browser client in Chromium', { skip: `SKIPPED: ${why}` }, () => {})
} else {
  t.test('Chromium: key made and published, cross-origin proof, ten calls on a ticket, refusals as problem+json, the key reused after a reload', async (t) => {
    const { chromium } = await import('playwright-core')
    const dir = await mkdtemp(join(tmpdir(), 'popgate-browser-'))
    const upstream = createEchoUpstream()
    await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', r))
    const sitePort = await freePort(), gwPort = await freePort()
    const site = `http://alice.localhost:${sitePort}`, gateway = `http://bob.localhost:${gwPort}`
    await writeFile(join(dir, 'acl.yaml'), ACL)
    await writeFile(join(dir, 'gateway.yaml'), [
      `listen: 127.0.0.1:${gwPort}`,
      `publicOrigin: ${gateway}`,
      `upstream: http://127.0.0.1:${(upstream.address() as AddressInfo).port}`,
      'acl: ./acl.yaml',
      'keys:',
      '  allowHttp: [alice.localhost]     # the test key host is plain http on loopback',
      '  allowPrivateAddresses: true',
      '  allowPorts: any',
      '  resolve: { alice.localhost: 127.0.0.1 }',
      'sessions:',
      '  tickets: { enabled: true }',
      '  cookie: { enabled: true }',
      'cors:',
      `  origins: [${site}]`,
      'log:',
      '  level: warn',
      '',
    ].join('\n'))
    const log = memoryLog()
    const gw = await startGateway(join(dir, 'gateway.yaml'), { env: {}, log: createLogger('warn', log.stream, schemeRedactFields()), metrics: createMetrics(), watch: false })
    const siteServer = createBrowserSite({ identity: 'alice.localhost', origin: site, gateway, store: createMemoryKeyStore(), pageConfig: { paths: { allowed: '/api/hello', denied: '/admin/users' }, ticketCalls: 10, cookie: true } })
    await new Promise<void>((r) => siteServer.listen(sitePort, '127.0.0.1', r))
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--host-resolver-rules=MAP *.localhost 127.0.0.1'] })
    t.teardown(async () => {
      await browser.close(); await gw.close()
      siteServer.closeAllConnections(); siteServer.close(); upstream.closeAllConnections(); upstream.close()
      await rm(dir, { recursive: true, force: true })
    })

    const context = await browser.newContext({ viewport: { width: 1200, height: 1600 } })
    const page = await context.newPage()
    const problems: string[] = []
    page.on('pageerror', (err) => problems.push(String(err)))
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()) })
    const run = async () => {
      await page.waitForFunction(() => document.body.dataset.state !== undefined, undefined, { timeout: 30_000 })
      return {
        state: await page.evaluate(() => document.body.dataset.state),
        kid: await page.evaluate(() => document.body.dataset.kid),
        created: await page.evaluate(() => document.body.dataset.keyCreated),
        rows: await page.evaluate(() => (window as unknown as { popgateResults: unknown }).popgateResults) as Row[],
        steps: await page.locator('#steps li').allTextContents(),
      }
    }

    await page.goto(site + '/')
    const first = await run()
    t.equal(first.state, 'done', `the page ran to the end ${problems.join(' | ')}`)
    t.equal(first.created, 'true', 'a new key')
    t.match(first.steps[0], /key made: ES256, non-extractable/)
    t.match(first.steps[1], /published on this domain's key host: http:\/\/alice\.localhost:\d+\/\.well-known\/domainpop\/keys\//)
    t.ok(first.steps.some((s) => /^401 challenge from the gateway: nonce \S+/.test(s)), 'the challenge, with its nonce read across origins')
    t.ok(first.steps.some((s) => /^session ticket received/.test(s)), 'a ticket')

    const [call0, ...rest] = first.rows
    t.equal(call0!.status, 200)
    t.match(call0!.body, { headers: { 'x-pop-identity': 'alice.localhost', 'x-pop-auth-method': 'domainpop' } }, 'the upstream saw alice.localhost')
    const onTicket = rest.slice(0, 10)
    t.equal(onTicket.length, 10)
    for (const r of onTicket) t.match(r, { status: 200, body: { headers: { 'x-pop-identity': 'alice.localhost', 'x-pop-auth-method': 'session' } } }, r.what)

    const denied = first.rows.find((r) => r.what === 'a path the ACL denies')!
    t.equal(denied.status, 403)
    t.equal(denied.contentType, 'application/problem+json', 'the page reads the problem, not a CORS failure')
    t.match(denied.body, { code: 'forbidden' })
    const tampered = first.rows.find((r) => r.what === 'a tampered proof')!
    t.equal(tampered.status, 401)
    t.equal(tampered.contentType, 'application/problem+json')
    t.match(tampered.body, { code: /^proof_/ })

    const cookieRows = first.rows.filter((r) => r.via === 'cookie' || r.what === 'proof asking for a cookie')
    t.match(cookieRows[0], { status: 200, body: { headers: { 'x-pop-auth-method': 'domainpop' } } }, 'the proof that asked for the cookie')
    // alice.localhost and bob.localhost are two sites: Chromium does not store a SameSite=Lax cookie from a
    // cross-site fetch (RFC 6265bis §5.7), so the cookie-only request is refused and the client falls back to a proof.
    t.match(cookieRows[1], { status: 200, body: { headers: { 'x-pop-identity': 'alice.localhost', 'x-pop-auth-method': 'domainpop' } } }, 'a cross-site page gets no cookie: the client falls back to a proof')
    t.ok(first.steps.some((s) => /refused \(401\); a proof instead/.test(s)), 'the refusal is seen and answered')

    const shot = process.env.POPGATE_SCREENSHOT ?? join(tmpdir(), 'popgate-browser-example.png')
    await page.screenshot({ path: shot, fullPage: true })
    t.comment(`screenshot: ${shot}`)

    await page.reload()
    const again = await run()
    t.equal(again.state, 'done')
    t.equal(again.created, 'false', 'after a reload the key comes from IndexedDB')
    t.equal(again.kid, first.kid, 'the same key')
    t.match(again.steps[0], /key found in IndexedDB/)
    t.notOk(again.steps.some((s) => /published/.test(s)), 'not published again')
    t.equal(again.rows[0]!.status, 200)
    t.strictSame(problems.filter((p) => !/Failed to load resource: the server responded with a status of (401|403)/.test(p)), [], 'no script errors')
  })
}

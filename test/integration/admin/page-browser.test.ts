// The live admin page in a real browser: Debian's Chromium driven by
// playwright-core against a gateway under traffic. The page shows a refusal
// with its code and rule, a reload with its decision diff, the charts and
// the key cache; it runs under its strict CSP (no violation, the refresh
// script works), and HTML smuggled into a reload problem is shown as text.
// A screenshot is saved (POPGATE_SCREENSHOT or the temp directory).
// Without /usr/bin/chromium the test is SKIPPED, loudly (`apt-get install -y chromium`).

import t from 'tap'
import { existsSync } from 'node:fs'
import { writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startUpstream, startTestGateway, rawRequest, DEFAULT_ACL } from '../../helpers/harness.js'
import { startKeyHost, keysConfig } from '../../helpers/identity.js'
import { signDomainPopProof } from '../../../src/client/proof.js'

const CHROMIUM = '/usr/bin/chromium'
const ORIGIN = 'https://gw.test'

if (!existsSync(CHROMIUM)) {
  const why = `no Chromium at ${CHROMIUM}: install it with "apt-get install -y chromium" (.ci/run does) to run the admin page browser test`
  process.stderr.write(`\n*** SKIPPED admin page browser test: ${why} ***\n\n`)
  t.test('the admin page in Chromium', { skip: `SKIPPED: ${why}` }, () => {})
} else {
  t.test('the admin page under traffic: refusal with code and rule, reload with its diff, escaped HTML, strict CSP', async (t) => {
    const { chromium } = await import('playwright-core')
    const up = await startUpstream()
    const kh = await startKeyHost()
    const gw = await startTestGateway({ upstream: up.url, publicOrigin: ORIGIN, extraConfig: keysConfig() + '\nadmin:\n  listen: 127.0.0.1:0\n' })
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'] })
    let stop = false
    t.teardown(async () => { stop = true; await browser.close(); await gw.close(); await up.close(); await kh.close() })
    const admin = `http://127.0.0.1:${gw.gw.admin!.port}`

    const nonceOf = async () => (await rawRequest(gw.url, { path: '/foo' })).headers['domainpop-nonce'] as string
    const proofFor = async (identity: string, k: Awaited<ReturnType<typeof kh.publish>>) =>
      `DomainPoP ${signDomainPopProof(k.key, { identity, keyUrl: k.keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce: await nonceOf() })}`
    const alice = await kh.publish('alice.test')
    const bob = await kh.publish('bob.test')
    t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', await proofFor('alice.test', alice)]] })).status, 200, 'alice allowed')
    t.equal((await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', await proofFor('bob.test', bob)]] })).status, 403, 'bob refused by rule foo')

    // Background traffic for the charts.
    const traffic = (async () => {
      for (let i = 0; !stop; i++) {
        await rawRequest(gw.url, { path: `/public/${i}` }).catch(() => {})
        if (i % 5 === 0) await rawRequest(gw.url, { path: '/foo', headers: [['Authorization', 'DomainPoP not-a-proof']] }).catch(() => {})
        await new Promise((r) => setTimeout(r, 40))
      }
    })()

    // A reload that flips bob's recent decision, and a refused one whose problem carries HTML.
    await writeFile(gw.aclFile, DEFAULT_ACL.replace('read: [alice.test]', 'read: [alice.test, bob.test]'))
    t.same(await gw.gw.reload('acl edited'), [], 'reload applied')
    await writeFile(gw.aclFile, DEFAULT_ACL + '"<img src=x onerror=window.__xss=1>": 1\n')
    t.not((await gw.gw.reload('bad edit')).length, 0, 'reload refused')

    const page = await browser.newPage({ viewport: { width: 1280, height: 1400 } })
    const problems: string[] = []
    page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()) })
    page.on('pageerror', (err) => problems.push(String(err)))
    const res = await page.goto(admin + '/')
    t.equal(res?.status(), 200)
    t.match(res?.headers()['content-security-policy'], /script-src 'self'/)
    const firstAt = await page.getAttribute('#main', 'data-at')
    // The script refreshes <main> every 2 s: a new data-at proves it runs under the CSP.
    await page.waitForFunction((at) => document.getElementById('main')?.getAttribute('data-at') !== at, firstAt, { timeout: 10_000 })

    const refusals = await page.textContent('#refusals')
    t.match(refusals, /forbidden/, 'a refusal with its code')
    t.match(refusals, /\/foo/)
    const forbiddenRow = await page.locator('#refusals tr', { hasText: 'forbidden' }).first().textContent()
    t.match(forbiddenRow, /403/)
    t.match(forbiddenRow, /foo/, 'and its rule')
    t.match(forbiddenRow, /bob\.test/)
    t.match(refusals, /400malformed_proof/, 'the malformed proofs under traffic, with their code')
    const reloads = await page.textContent('#reloads')
    t.match(reloads, /acl edited/)
    t.match(reloads, /changed: foo/, 'the rule that changed')
    t.match(reloads, /1 of \d+ recent decisions change/, 'the decision diff')
    t.match(reloads, /bob\.test GET \/foo: deny → allow/, 'the flip itself')
    t.match(reloads, /<img src=x onerror=window\.__xss=1>/, 'the hostile key shown as text')
    t.equal(await page.evaluate(() => document.querySelectorAll('main img').length), 0, 'no element injected')
    t.equal(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss), undefined, 'no script ran')
    t.match(await page.textContent('#top-requests'), /alice\.test/)
    t.match(await page.textContent('#key-cache'), /alice\.test/)
    t.ok(await page.locator('svg polyline').count() >= 2, 'charts drawn')
    const shot = process.env.POPGATE_SCREENSHOT ?? join(tmpdir(), 'popgate-admin-page.png')
    await page.screenshot({ path: shot, fullPage: true })
    t.comment(`screenshot: ${shot}`)
    t.same(problems, [], 'no console error, no CSP violation')
    stop = true
    await traffic
  })
}

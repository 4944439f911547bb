// The admin page's HTML (admin/page.ts): every value from traffic, reloads
// and caches is escaped, whatever it holds.

import t from 'tap'
import { escapeHtml, renderMain, renderPage } from '../../../src/admin/page.js'
import { createActivity } from '../../../src/admin/activity.js'
import type { PageView } from '../../../src/admin/view.js'

const HOSTILE = '<script>alert(1)</script>"\'&<img src=x onerror=alert(2)>'

t.test('escapeHtml covers text and both attribute quotes', async (t) => {
  t.equal(escapeHtml(`<a href="x" title='y'>&</a>`), '&lt;a href=&quot;x&quot; title=&#39;y&#39;&gt;&amp;&lt;/a&gt;')
})

t.test('an identity, path, code, rule, scheme, reload reason, problem and cache URL with HTML in them are shown escaped', async (t) => {
  const activity = createActivity({ timer: false })
  activity.record({ method: 'GET', path: `/p/${HOSTILE}`, decision: 'deny', code: HOSTILE, ruleId: HOSTILE, identity: undefined, claimed: HOSTILE, scheme: HOSTILE }, 'deny', 403, 0.01)
  activity.record({ method: HOSTILE, path: '/', decision: 'allow', code: undefined, ruleId: 'r', identity: HOSTILE, claimed: undefined, scheme: 'domainpop' }, 'allow', 200, 0.01)
  activity.tick()
  activity.reload({ at: 0, reason: HOSTILE, result: 'invalid', problems: [HOSTILE] })
  activity.reload({ at: 0, reason: 'ok', result: 'ok', acl: { added: [HOSTILE], removed: [], changed: [], sampled: 1, flips: 1, examples: [{ identity: HOSTILE, method: 'GET', path: HOSTILE, before: 'deny', after: 'allow', rule: HOSTILE }] } })
  const entry = { url: `https://x.test/${HOSTILE}`, owner: HOSTILE, fetchedAtMs: 0, expiresAtMs: 1, failed: HOSTILE }
  const view: PageView = {
    nowMs: 1000, startedAtMs: 0, ready: false, readiness: HOSTILE, configFile: HOSTILE, configVersion: 'abc', tracing: HOSTILE,
    activity: activity.snapshot(),
    keys: { entries: 1, hits: 0, misses: 0, negativeHits: 0, fetches: 0, kidRefetches: 0, busyRejections: 0, evictions: 0, inFlight: 0, hotKeys: 0, keyImports: 0, bytes: 0, owners: 1, quotaRefusals: 0, ownerEvictions: 0 },
    keyEntries: [entry], issuerEntries: [entry],
  }
  for (const html of [renderMain(view), renderPage(view)]) {
    t.notOk(html.includes('<script>alert'), 'no script element from data')
    t.notOk(html.includes('<img src=x'), 'no img element from data')
    t.notOk(/onerror=alert\(2\)>/.test(html.replace(/&lt;img src=x onerror=alert\(2\)&gt;/g, '')), 'the handler only inside escaped text')
    const escaped = (html.match(/&lt;script&gt;alert\(1\)&lt;\/script&gt;&quot;&#39;&amp;&lt;img src=x onerror=alert\(2\)&gt;/g) ?? []).length
    t.ok(escaped >= 14, `every hostile value present, escaped (${escaped})`)
  }
  t.equal((renderPage(view).match(/<script/g) ?? []).length, 1, 'the one script element is the same-origin /admin.js')
  t.match(renderPage(view), /<script src="\/admin\.js" defer><\/script>/)
})

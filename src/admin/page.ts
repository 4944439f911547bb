// The live admin page at the admin listener's `/`: one HTML document built
// on the server from a PageView (admin/view.ts), every value through
// `escapeHtml`, charts as inline SVG drawn from the gateway's own per-second
// samples. No external assets and no build step: the style and the script
// are same-origin routes (admin/assets.ts), so the page works under a CSP
// without 'unsafe-inline'. The script only refetches `/?part=main` every
// two seconds and swaps the <main> it gets, which the server escaped.

import type { PageView } from './view.js'
import type { IdentityCount, Refusal, ReloadRecord, SecondSample } from './activity.js'
import type { CacheEntryView } from '../keys/index.js'

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' }

/** HTML text and attribute values (double or single quoted). */
export function escapeHtml(value: unknown): string {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]!)
}

const e = escapeHtml
const time = (ms: number): string => new Date(ms).toISOString().slice(11, 19)
const ago = (now: number, ms: number): string => {
  const s = Math.max(0, Math.round((now - ms) / 1000))
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)}m` : `${Math.round(s / 3600)}h`
}

export function renderPage(view: PageView): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>popgate admin</title><link rel="stylesheet" href="/admin.css"><script src="/admin.js" defer></script></head>
<body>${renderMain(view)}</body></html>
`
}

export function renderMain(view: PageView): string {
  const a = view.activity
  return `<main id="main" data-at="${view.nowMs}">
<header><h1>popgate</h1>
<span class="pill ok">healthy</span>
<span class="pill ${view.ready ? 'ok' : 'bad'}" id="readiness">${e(view.readiness)}</span>
<span>config <code id="config-version">${e(view.configVersion)}</code> · ${e(view.configFile)}</span>
<span>up ${ago(view.nowMs, view.startedAtMs)}</span>
<span>tracing ${e(view.tracing)}</span>
<span class="muted">updated ${time(view.nowMs)} UTC</span></header>
<section class="charts">
${chart('Requests per second', a.seconds, [['requests', 'req/s', 'a'], ['refusals', 'refused/s', 'b']])}
${chart('Latency (ms, per second)', a.seconds, [['p50Ms', 'p50', 'a'], ['p99Ms', 'p99', 'b']])}
</section>
<section class="grid">
${identityTable('Top identities by requests', a.topByRequests, 'top-requests')}
${identityTable('Top identities by refusals', a.topByRefusals, 'top-refusals')}
</section>
${refusalTable(view.nowMs, a.refusals)}
${reloadList(a.reloads)}
<section id="key-cache"><h2>Key cache</h2>
<p>${view.keys.entries} documents · ${view.keys.owners} identities · ${Math.round(view.keys.bytes / 1024)} KiB · hit ratio ${view.keys.hits + view.keys.misses === 0 ? '1' : (view.keys.hits / (view.keys.hits + view.keys.misses)).toFixed(3)} · ${view.keys.hotKeys} hot keys · ${view.keys.inFlight} fetching</p>
${cacheTable(view.nowMs, view.keyEntries, 'identity')}
</section>
${view.issuerEntries === undefined ? '' : `<section id="issuer-cache"><h2>Issuer caches</h2>${cacheTable(view.nowMs, view.issuerEntries, 'issuer')}</section>`}
</main>`
}

type Series = readonly [key: 'requests' | 'refusals' | 'p50Ms' | 'p99Ms', label: string, cls: string]

/** A polyline per series over the last HISTORY_SECONDS samples; the y axis from 0 to the largest value. */
function chart(title: string, samples: readonly SecondSample[], series: readonly Series[]): string {
  const W = 600, H = 120
  const max = Math.max(1, ...samples.flatMap((s) => series.map(([k]) => s[k])))
  const n = Math.max(samples.length - 1, 1)
  const line = ([k, , cls]: Series) => samples.length === 0 ? '' : `<polyline class="${cls}" points="${samples.map((s, i) => `${Math.round((i / n) * W)},${Math.round(H - (s[k] / max) * H)}`).join(' ')}"/>`
  const last = samples.at(-1)
  const legend = series.map(([k, label, cls]) => `<span class="${cls}">${e(label)} ${last ? e(round(last[k])) : '–'}</span>`).join(' ')
  return `<figure><figcaption>${e(title)} <span class="muted">max ${e(round(max))}, last ${samples.length}s</span> ${legend}</figcaption>
<svg viewBox="0 0 ${W} ${H}" preserveAspectRatio="none" role="img" aria-label="${e(title)}">${series.map(line).join('')}</svg></figure>`
}

const round = (v: number): string => (v >= 100 ? String(Math.round(v)) : String(Math.round(v * 100) / 100))

const who = (identity: string | undefined, verified: boolean): string =>
  identity === undefined ? '<span class="muted">anonymous</span>' : verified ? e(identity) : `${e(identity)} <span class="muted">(claimed)</span>`

function identityTable(title: string, rows: readonly IdentityCount[], id: string): string {
  const body = rows.length === 0 ? '<tr><td colspan="3" class="muted">none yet</td></tr>'
    : rows.map((r) => `<tr><td>${who(r.identity, r.verified)}</td><td class="n">${r.requests}</td><td class="n">${r.refusals}</td></tr>`).join('')
  return `<section id="${id}"><h2>${e(title)}</h2><table><thead><tr><th>identity</th><th>requests</th><th>refusals</th></tr></thead><tbody>${body}</tbody></table></section>`
}

function refusalTable(now: number, rows: readonly Refusal[]): string {
  const body = rows.length === 0 ? '<tr><td colspan="8" class="muted">none yet</td></tr>'
    : rows.map((r) => `<tr><td>${time(r.at)}</td><td>${e(r.method)}</td><td class="path">${e(r.path)}</td><td class="n">${r.status}</td><td><code>${e(r.code)}</code></td><td>${r.rule === undefined ? '<span class="muted">–</span>' : e(r.rule)}</td><td>${who(r.identity, r.verified)}</td><td>${r.scheme === undefined ? '' : e(r.scheme)}</td></tr>`).join('')
  return `<section id="refusals"><h2>Recent refusals <span class="muted">newest first, ${ago(now, rows.at(-1)?.at ?? now)} back</span></h2><table><thead><tr><th>time</th><th>method</th><th>path</th><th>status</th><th>code</th><th>rule</th><th>identity</th><th>scheme</th></tr></thead><tbody>${body}</tbody></table></section>`
}

function reloadList(rows: readonly ReloadRecord[]): string {
  const item = (r: ReloadRecord): string => {
    const head = `<b>${time(r.at)}</b> ${e(r.reason)} <span class="pill ${r.result === 'ok' ? 'ok' : 'bad'}">${r.result === 'ok' ? 'applied' : 'refused'}</span>`
    if (r.result === 'invalid') return `<li class="reload">${head}<ul>${(r.problems ?? []).map((p) => `<li><code>${e(p)}</code></li>`).join('')}</ul></li>`
    const acl = r.acl!
    const names = (label: string, ids: readonly string[]) => ids.length === 0 ? '' : ` ${label}: ${ids.map((id) => `<code>${e(id)}</code>`).join(', ')}`
    const changes = names('added', acl.added) + names('removed', acl.removed) + names('changed', acl.changed)
    const flips = acl.examples.map((f) => `<li>${who(f.identity, true)} ${e(f.method)} <span class="path">${e(f.path)}</span>: ${e(f.before)} → <b>${e(f.after)}</b>${f.rule ? ` (rule ${e(f.rule)})` : ''}</li>`).join('')
    return `<li class="reload">${head} rules${changes || ' unchanged'} · <span class="diff">${acl.flips} of ${acl.sampled} recent decisions change</span>${flips ? `<ul>${flips}</ul>` : ''}</li>`
  }
  return `<section id="reloads"><h2>Last reloads</h2>${rows.length === 0 ? '<p class="muted">none since start</p>' : `<ol>${rows.map(item).join('')}</ol>`}</section>`
}

function cacheTable(now: number, rows: readonly CacheEntryView[], ownerLabel: string): string {
  const state = (r: CacheEntryView) => r.failed !== undefined ? `<span class="bad">failed <code>${e(r.failed)}</code></span>` : r.expiresAtMs <= now ? '<span class="muted">stale</span>' : 'fresh'
  const body = rows.length === 0 ? '<tr><td colspan="5" class="muted">empty</td></tr>'
    : rows.map((r) => `<tr><td>${e(r.owner)}</td><td class="path">${e(r.url)}</td><td class="n">${ago(now, r.fetchedAtMs)}</td><td class="n">${r.expiresAtMs > now ? ago(r.expiresAtMs, now) : '0s'}</td><td>${state(r)}</td></tr>`).join('')
  return `<table><thead><tr><th>${e(ownerLabel)}</th><th>url</th><th>age</th><th>expires in</th><th>state</th></tr></thead><tbody>${body}</tbody></table>`
}

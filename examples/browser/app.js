// The example page: the whole DomainPoP flow, step by step, with
// popgate's browser client (dist/browser/popgate.js, served at /popgate/).
// /config.json (served by the identity's site) names the identity, the
// gateway, the paths to call and a publish token for the key host.

import { createBrowserClient, keyHostPublisher } from '/popgate/popgate.js'

const $ = (sel) => document.querySelector(sel)
const cfg = await (await fetch('/config.json')).json()
$('#origin').textContent = location.origin
$('#gateway').textContent = cfg.gateway
const results = (window.popgateResults = [])

function step(kind, text) {
  const li = document.createElement('li')
  li.className = `step-${kind}`
  li.textContent = text
  $('#steps').append(li)
}

const describe = (e) => {
  switch (e.type) {
    case 'key': return e.created ? `key made: ${e.alg}, non-extractable, kid ${e.kid} (kept in IndexedDB)` : `key found in IndexedDB: kid ${e.kid} (made on an earlier visit)`
    case 'published': return `public key published on this domain's key host: ${e.keyUrl}`
    case 'challenge': return `401 challenge from the gateway${e.error ? ` (error=${e.error})` : ''}: nonce ${e.nonce ?? '(none)'}`
    case 'proof': return `proof signed for ${e.method} ${new URL(e.url).pathname} (jti ${e.jti})${e.asks ? `, asking for a ${e.asks}` : ''}`
    case 'ticket': return `session ticket received (expires in ${e.expiresInSec} s); its HMAC key derived with ECDH + HKDF, non-extractable`
    case 'ticket-used': return `request on the ticket: ${e.method} ${new URL(e.url).pathname} (HS256 session proof)`
    case 'ticket-refused': return `session (ticket or cookie) refused (${e.status}); a proof instead`
    case 'response': return `answer ${e.status} (${e.via})`
    default: return JSON.stringify(e)
  }
}
const onEvent = (e) => step(e.type, describe(e))

async function call(client, what, path, init, via) {
  const res = await client.fetch(cfg.gateway + path, init)
  const text = await res.text()
  let body
  try { body = JSON.parse(text) } catch { body = text }
  const row = { what, path, status: res.status, via, contentType: res.headers.get('content-type'), body }
  results.push(row)
  const tr = document.createElement('tr')
  tr.className = res.ok ? 'ok' : 'refused'
  for (const v of [results.length, what, res.status, via, typeof body === 'string' ? body : JSON.stringify(body, null, 2)]) {
    const td = document.createElement('td')
    if (v === undefined) td.textContent = ''
    else if (typeof v === 'string' && v.includes('\n')) { const pre = document.createElement('pre'); pre.textContent = v; td.append(pre) }
    else td.textContent = String(v)
    tr.append(td)
  }
  $('#calls tbody').append(tr)
  return row
}

$('#forget').addEventListener('click', async () => {
  const client = await createBrowserClient({ identity: cfg.identity, publishKey: async () => { throw new Error('not now') } }).catch(() => undefined)
  await client?.forget()
  location.reload()
})

const publishKey = keyHostPublisher({ authorization: `Bearer ${cfg.publishToken}` })

try {
  // 1. Key, publication, challenge, proof, answer; then calls on a ticket.
  const client = await createBrowserClient({ identity: cfg.identity, publishKey, onEvent, session: 'ticket' })
  document.body.dataset.kid = client.kid
  document.body.dataset.keyCreated = String(client.keyCreated)
  await call(client, 'first call: challenge, proof, ticket', cfg.paths.allowed, undefined, 'proof')
  for (let i = 1; i <= (cfg.ticketCalls ?? 10); i++) await call(client, `call ${i} on the ticket`, cfg.paths.allowed, { method: i % 2 ? 'GET' : 'POST', body: i % 2 ? undefined : `n=${i}` }, 'ticket')

  // 2. Refusals the page reads as problem+json: a path this identity may not use, a tampered proof.
  await call(client, 'a path the ACL denies', cfg.paths.denied, undefined, 'proof')
  const tampering = await createBrowserClient({
    identity: cfg.identity, publishKey, session: 'none',
    fetch: (url, init) => {
      const h = new Headers(init.headers)
      const a = h.get('authorization')
      // One character of the signature changed: the gateway must refuse it.
      if (a) h.set('authorization', a.slice(0, -3) + (a.at(-3) === 'A' ? 'B' : 'A') + a.slice(-2))
      return fetch(url, { ...init, headers: h })
    },
  })
  await call(tampering, 'a tampered proof', cfg.paths.allowed, undefined, 'proof')

  // 3. A cookie session: the proof asks for the gateway's cookie; later requests carry only the cookie.
  if (cfg.cookie) {
    const cookieClient = await createBrowserClient({ identity: cfg.identity, publishKey, onEvent, session: 'cookie' })
    await call(cookieClient, 'proof asking for a cookie', cfg.paths.allowed, undefined, 'proof')
    await call(cookieClient, 'on the cookie', cfg.paths.allowed, undefined, 'cookie')
  }
  $('#state').textContent = 'done'
  document.body.dataset.state = 'done'
} catch (err) {
  $('#state').textContent = `failed: ${err}`
  document.body.dataset.state = 'failed'
  throw err
}

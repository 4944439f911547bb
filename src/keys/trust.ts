// The one control point where a key learnt from a domain is accepted for an
// identity (issue 25), whatever the scheme: a DomainPoP key document, a DPoP
// issuer's JWKS, an HTTP Message Signatures directory. The ACL's
// `identities:` settings are enforced here and nowhere else.
//
//   checkPin(identity, thumbprint)   before anything is fetched or imported,
//                                    where the credential names the key's
//                                    thumbprint (DomainPoP kid, a signature's
//                                    keyid); the readers also ask pinsFor()
//                                    before they import a key (thumbprint.ts),
//                                    so an unpinned key never reaches OpenSSL
//   admit(key)                       after its signature verified: the pin
//                                    again (a set read before the pins
//                                    changed, a JWKS by kid), then the key
//                                    record (known-keys.ts): a key never seen
//                                    for an identity that had keys is one
//                                    key_first_seen event (log line, counter
//                                    by identity, webhook); under
//                                    `newKeys: hold` it is refused (key_held)
//                                    until `popgate keys approve`
// Throws GatewayError: key_not_pinned, key_held, replay_store_unavailable
// (the records unreachable, for a hold identity's unknown key only: an
// accept identity's key is accepted and the failure logged and counted).
//
// Hot path: a key this process accepted before is a Map lookup (`trusted`);
// its last-seen time is written at most once per TOUCH_EVERY_MS, without
// waiting. Held keys are not cached: each retry asks the records (so an
// approval on any replica is seen at once) and creates nothing.

import { GatewayError } from '../errors.js'
import { identityProblem, type Identity } from '../identity/domain.js'
import type { IdentityPolicy } from '../acl/identities.js'
import type { Logger } from '../log.js'
import type { Metrics } from '../metrics.js'
import type { KnownKey, KnownKeyStore, SeenKey } from './known-keys.js'
import type { PinLookup } from './thumbprint.js'
import type { KeyWebhook } from './webhook.js'

export const TOUCH_EVERY_MS = 60_000
/** Accepted keys remembered by this process; beyond it the oldest are asked about again. */
export const MAX_TRUSTED = 100_000

export const THUMBPRINT = /^[A-Za-z0-9_-]{43}$/

/** What survives reloads (built with the replay store, kept while `replay:` is unchanged). */
export interface KeyTrustCore {
  readonly store: KnownKeyStore
  /** identity LF thumbprint → when its last-seen time was last written. */
  readonly trusted: Map<string, number>
  close(): Promise<void>
}

/** The pins the document readers (which survive reloads) ask before importing: set from the ACL of each state built. */
export interface PinBoard {
  readonly lookup: PinLookup
  set(policies: ReadonlyMap<string, IdentityPolicy>): void
}

export function createPinBoard(): PinBoard {
  let pins = new Map<string, ReadonlySet<string>>()
  return {
    lookup: (owner) => pins.get(owner),
    set(policies) { pins = pinsOf(policies) },
  }
}

function pinsOf(policies: ReadonlyMap<string, IdentityPolicy>): Map<string, ReadonlySet<string>> {
  const out = new Map<string, ReadonlySet<string>>()
  for (const [identity, p] of policies) if (p.keys !== undefined) out.set(identity, new Set(p.keys))
  return out
}

export function createKeyTrustCore(store: KnownKeyStore): KeyTrustCore {
  return { store, trusted: new Map(), close: () => store.close() }
}

/** A known key as `popgate keys list` shows it. */
export interface KeyView {
  readonly identity: string
  readonly thumbprint: string
  /** accepted | held | approved, or pinned: listed by the ACL, not seen yet. */
  readonly state: KnownKey['state'] | 'pinned'
  readonly pinned: boolean
  readonly alg: string | undefined
  readonly scheme: string | undefined
  readonly url: string | undefined
  readonly firstSeen: string | undefined
  readonly lastSeen: string | undefined
  /** Seconds since first seen. */
  readonly ageSeconds: number | undefined
}

export interface KeyTrust {
  /** The pins of an identity (undefined: not pinned): the readers' import filter. */
  readonly pinsFor: PinLookup
  /** Throws key_not_pinned when `identity` is pinned and `thumbprint` is not among its pins. No I/O. */
  checkPin(identity: string, thumbprint: string, scheme: string): void
  /** Counts a key_not_pinned a reader threw (a key its pins withheld at import) like one checkPin threw. */
  counted<T>(scheme: string, lookup: Promise<T>): Promise<T>
  /** After the key's signature verified: pins, record, newKeys policy. */
  admit(key: SeenKey): Promise<void>
  list(identity?: string): Promise<KeyView[]>
  /** Throws KeyTrustInputError for a malformed identity or thumbprint, or an identity the ACL's identities: does not name. */
  approve(identity: string, thumbprint: string): Promise<KeyView>
}

/** Bad input to list/approve: a status for the admin route, a message for the operator. */
export class KeyTrustInputError extends Error {
  constructor(readonly status: 400 | 404, message: string) { super(message) }
}

export interface KeyTrustDeps {
  readonly core: KeyTrustCore
  readonly policies: ReadonlyMap<Identity, IdentityPolicy>
  readonly now: () => number
  readonly log: Logger
  readonly metrics: Metrics
  readonly webhook?: KeyWebhook
}

const slot = (identity: string, thumbprint: string) => `${identity}\n${thumbprint}`

export function createKeyTrust(deps: KeyTrustDeps): KeyTrust {
  const { core, policies, now, log, metrics } = deps
  const pins = pinsOf(policies)
  const pinsFor: PinLookup = (owner) => pins.get(owner)
  /** Keys accepted unrecorded (records unreachable) that were logged already. */
  const unrecorded = new Set<string>()

  function checkPin(identity: string, thumbprint: string, scheme: string): void {
    const p = pins.get(identity)
    if (p === undefined || p.has(thumbprint)) return
    metrics.inc('popgate_key_pin_refusals_total', { scheme })
    throw new GatewayError('key_not_pinned', 'this key is not one the gateway pinned for this identity')
  }

  function remember(key: string, t: number): void {
    if (core.trusted.size >= MAX_TRUSTED) core.trusted.delete(core.trusted.keys().next().value!)
    core.trusted.set(key, t)
  }

  function firstSeen(r: KnownKey, others: number): void {
    const event = {
      event: 'key_first_seen', identity: r.identity, thumbprint: r.thumbprint, alg: r.alg, scheme: r.scheme, url: r.url,
      state: r.state, otherKeys: others, firstSeen: new Date(r.firstSeenMs ?? now()).toISOString(),
    }
    log.warn(event, 'key_first_seen')
    metrics.inc('popgate_keys_first_seen_total', { identity: r.identity })
    deps.webhook?.notify(event)
  }

  async function admit(key: SeenKey): Promise<void> {
    checkPin(key.identity, key.thumbprint, key.scheme)
    const t = now()
    const id = slot(key.identity, key.thumbprint)
    const touched = core.trusted.get(id)
    if (touched !== undefined) {
      if (t - touched >= TOUCH_EVERY_MS) {
        core.trusted.set(id, t)
        core.store.touch(key.identity, key.thumbprint, t).catch(() => undefined)
      }
      return
    }
    const pinned = pins.get(key.identity)?.has(key.thumbprint) === true
    // A pinned key was approved in the ACL itself: it is never held.
    const hold = !pinned && policies.get(key.identity as Identity)?.newKeys === 'hold'
    let recorded
    try {
      recorded = await core.store.record(key, hold ? 'hold' : 'accept', t)
    } catch (err) {
      metrics.inc('popgate_key_record_errors_total', { policy: hold ? 'hold' : 'accept' })
      // Fail closed where the operator asked to approve new keys; an accept identity's key is accepted unrecorded.
      if (hold) throw err instanceof GatewayError ? err : new GatewayError('replay_store_unavailable', 'the key records cannot be read', { cause: err, retryAfterSec: 1 })
      // Once per key and outage-ish: the replay store's own outage log says the rest.
      if (!unrecorded.has(id)) {
        if (unrecorded.size >= 1_000) unrecorded.clear()
        unrecorded.add(id)
        log.warn({ identity: key.identity, thumbprint: key.thumbprint, scheme: key.scheme, err }, 'key accepted without a record: the key records are unreachable')
      }
      return
    }
    if (recorded.created && recorded.others > 0) firstSeen(recorded.record, recorded.others)
    if (recorded.record.state === 'held' && hold) {
      metrics.inc('popgate_key_held_refusals_total', { scheme: key.scheme })
      throw new GatewayError('key_held', 'this identity has a new key that waits for an operator\'s approval (popgate keys approve)')
    }
    remember(id, t)
    if (!recorded.created) core.store.touch(key.identity, key.thumbprint, t).catch(() => undefined)
  }

  function view(r: KnownKey): KeyView {
    const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString())
    return {
      identity: r.identity, thumbprint: r.thumbprint, state: r.state, pinned: pins.get(r.identity)?.has(r.thumbprint) === true,
      alg: r.alg, scheme: r.scheme, url: r.url, firstSeen: iso(r.firstSeenMs), lastSeen: iso(r.lastSeenMs),
      ageSeconds: r.firstSeenMs === undefined ? undefined : Math.max(0, Math.floor((now() - r.firstSeenMs) / 1000)),
    }
  }

  function checkInput(identity: string, thumbprint?: string): void {
    const why = identityProblem(identity)
    if (why) throw new KeyTrustInputError(400, `${identity}: not an identity: ${why}`)
    if (thumbprint !== undefined && !THUMBPRINT.test(thumbprint)) throw new KeyTrustInputError(400, 'the thumbprint must be an RFC 7638 SHA-256 thumbprint: 43 base64url characters')
  }

  return {
    pinsFor,
    checkPin,
    counted: (scheme, lookup) => lookup.catch((err: unknown) => {
      if (err instanceof GatewayError && err.code === 'key_not_pinned') metrics.inc('popgate_key_pin_refusals_total', { scheme })
      throw err
    }),
    admit,
    async list(identity) {
      if (identity !== undefined) checkInput(identity)
      const records = await core.store.list(identity)
      const out = records.map(view)
      // Pinned keys never seen yet are listed too: the ACL vouches for them.
      for (const [id, p] of pins) {
        if (identity !== undefined && id !== identity) continue
        for (const t of p) {
          if (!records.some((r) => r.identity === id && r.thumbprint === t)) {
            out.push({ identity: id, thumbprint: t, state: 'pinned', pinned: true, alg: undefined, scheme: undefined, url: undefined, firstSeen: undefined, lastSeen: undefined, ageSeconds: undefined })
          }
        }
      }
      // By identity, then oldest first; keys never seen last.
      const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0)
      return out.sort((a, b) => cmp(a.identity, b.identity) || cmp(a.firstSeen ?? '~', b.firstSeen ?? '~'))
    },
    async approve(identity, thumbprint) {
      checkInput(identity, thumbprint)
      if (!policies.has(identity as Identity)) {
        throw new KeyTrustInputError(404, `${identity} is not in the ACL's identities: section; only an identity listed there (newKeys: hold) has keys to approve`)
      }
      const record = await core.store.approve(identity, thumbprint, now())
      log.info({ identity, thumbprint }, 'key approved')
      // This replica takes it at once; the others read the record on the key's next use.
      remember(slot(identity, thumbprint), now())
      return view(record)
    },
  }
}

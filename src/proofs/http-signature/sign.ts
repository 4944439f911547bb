// Creating a signature (RFC 9421 §3.1): the base from the message, the
// signature over it, and the two fields that carry it. Used by the client
// (`popgate fetch --http-signature`) and by the gateway signing what it
// forwards. Pure apart from the key operation.

import type { KeyObject } from 'node:crypto'
import { signatureBase, type ComponentId, type MessageView } from './base.js'
import { signBase, type HttpSignatureAlgorithm } from './algorithms.js'
import { serializeInnerList, type Item, type Parameters } from './structured.js'

export interface SignOptions {
  readonly label: string
  /** Component names, or [name, params] pairs (e.g. ['signature-agent', new Map([['key', 'sig1']])]). */
  readonly components: readonly (string | ComponentId)[]
  readonly alg: HttpSignatureAlgorithm
  readonly key: KeyObject
  /** Parameters in the order they are written; undefined ones are left out. */
  readonly params: {
    readonly created?: number
    readonly expires?: number
    readonly nonce?: string
    readonly keyid?: string
    readonly tag?: string
    /** Whether to write `alg` (the RFC vectors B.2.5 and B.2.6 do not). */
    readonly alg?: boolean
  }
  /** Parameter order; default created, keyid, alg, expires, nonce, tag (Web Bot Auth's). */
  readonly order?: readonly ('created' | 'expires' | 'nonce' | 'alg' | 'keyid' | 'tag')[]
}

export interface SignedFields {
  readonly signatureInput: string
  readonly signature: string
  /** The base that was signed (for tests and debugging; holds no secret). */
  readonly base: string
}

const DEFAULT_ORDER = ['created', 'keyid', 'alg', 'expires', 'nonce', 'tag'] as const

export function toComponentIds(components: readonly (string | ComponentId)[]): ComponentId[] {
  return components.map((c) => (typeof c === 'string' ? [c, new Map()] as Item : c))
}

export function signMessage(m: MessageView, opts: SignOptions): SignedFields {
  const params: Parameters = new Map()
  for (const name of opts.order ?? DEFAULT_ORDER) {
    if (name === 'alg') { if (opts.params.alg) params.set('alg', opts.alg); continue }
    const v = opts.params[name]
    if (v !== undefined) params.set(name, v)
  }
  const ids = toComponentIds(opts.components)
  const base = signatureBase(m, ids, params)
  const sig = signBase(opts.alg, opts.key, base)
  return {
    signatureInput: `${opts.label}=${serializeInnerList([ids, params])}`,
    // RFC 9651 §4.1.8: a Byte Sequence is its base64 between colons.
    signature: `${opts.label}=:${sig.toString('base64')}:`,
    base,
  }
}

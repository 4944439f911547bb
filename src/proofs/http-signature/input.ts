// Signature-Input and Signature (RFC 9421 §4.1, §4.2) → one entry per label.
// Pure. Throws GatewayError signature_malformed for fields that are not
// the RFC's shape, without echoing them.
//
// Signature parameters (§2.3): created and expires Integers, nonce, alg,
// keyid and tag Strings. Unknown parameters are kept (they are part of the
// @signature-params line the signer signed) but carry no meaning here.

import { GatewayError } from '../../errors.js'
import type { ComponentId } from './base.js'
import { isInnerList, parseField, type Parameters } from './structured.js'

export interface SignatureParams {
  readonly created: number | undefined
  readonly expires: number | undefined
  readonly nonce: string | undefined
  readonly alg: string | undefined
  readonly keyid: string | undefined
  readonly tag: string | undefined
}

export interface SignatureEntry {
  readonly label: string
  readonly components: readonly ComponentId[]
  /** The inner list's parameters as received: signatureBase re-serializes them. */
  readonly rawParams: Parameters
  readonly params: SignatureParams
  readonly signature: Buffer
}

/** More labels than any profile uses; a bound on parse work. */
export const MAX_SIGNATURES = 8
/** A covered component list longer than this is not a request anyone signs. */
export const MAX_COMPONENTS = 32

const fail = (why: string): never => { throw new GatewayError('signature_malformed', why) }

function readParams(p: Parameters): SignatureParams {
  const int = (name: string): number | undefined => {
    const v = p.get(name)
    if (v === undefined) return undefined
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) fail(`signature parameter ${name} must be a non-negative integer`)
    return v as number
  }
  const str = (name: string): string | undefined => {
    const v = p.get(name)
    if (v === undefined) return undefined
    if (typeof v !== 'string') fail(`signature parameter ${name} must be a string`)
    return v as string
  }
  return { created: int('created'), expires: int('expires'), nonce: str('nonce'), alg: str('alg'), keyid: str('keyid'), tag: str('tag') }
}

/**
 * Every signature of the message: Signature-Input and Signature must hold
 * the same labels (§4.2: a label in one and not the other is an error).
 * `inputValues` / `signatureValues` are each field's values, combined per
 * RFC 9110 §5.3.
 */
export function parseSignatures(inputValues: readonly string[] | undefined, signatureValues: readonly string[] | undefined): SignatureEntry[] {
  if (inputValues === undefined || signatureValues === undefined) fail('Signature-Input and Signature must both be present')
  const inputs = parseField(inputValues!.join(', '), 'dictionary', 'signature_malformed', 'Signature-Input')
  const sigs = parseField(signatureValues!.join(', '), 'dictionary', 'signature_malformed', 'Signature')
  if (inputs.size === 0) fail('Signature-Input holds no signature')
  if (inputs.size > MAX_SIGNATURES || sigs.size > MAX_SIGNATURES) fail(`more than ${MAX_SIGNATURES} signatures`)
  if (inputs.size !== sigs.size || [...inputs.keys()].some((k) => !sigs.has(k))) fail('Signature-Input and Signature name different labels')
  const out: SignatureEntry[] = []
  for (const [label, member] of inputs) {
    if (!isInnerList(member)) fail('a Signature-Input member must be an inner list')
    const [items, rawParams] = member as [ComponentId[], Parameters]
    if (items.length > MAX_COMPONENTS) fail(`more than ${MAX_COMPONENTS} covered components`)
    for (const [name] of items) if (typeof name !== 'string') fail('a covered component must be a string')
    const sig = sigs.get(label)!
    if (isInnerList(sig) || !(sig[0] instanceof ArrayBuffer)) fail('a Signature member must be a byte sequence')
    out.push({ label, components: items, rawParams, params: readParams(rawParams), signature: Buffer.from(sig[0] as ArrayBuffer) })
  }
  return out
}

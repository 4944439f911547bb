// RFC 9651 structured fields as HTTP Message Signatures use them, on the
// kept `structured-headers` parser (RFC 9651 + RFC 8941). Pure. Every parse
// failure becomes one GatewayError with the caller's code, never the
// library's own error, and never an echo of the field value.

import {
  parseDictionary, parseItem, parseList, serializeDictionary, serializeInnerList, serializeItem, serializeList,
  Token, type BareItem, type Dictionary, type InnerList, type Item, type Parameters,
} from 'structured-headers'
import { GatewayError, type ErrorCode } from '../../errors.js'

export { serializeInnerList, serializeItem, serializeDictionary, Token }
export type { BareItem, Dictionary, InnerList, Item, Parameters }

/** The structured type of a field (RFC 9651 §3). */
export type FieldType = 'dictionary' | 'list' | 'item'

/**
 * Fields whose structured type is known, for the `sf` and `key` component
 * parameters (RFC 9421 §2.1.1, §2.1.2): a verifier must know the type to
 * re-serialize, so any other field with `sf` or `key` is refused.
 */
export const KNOWN_FIELD_TYPES: ReadonlyMap<string, FieldType> = new Map<string, FieldType>([
  ['signature-input', 'dictionary'], ['signature', 'dictionary'], ['accept-signature', 'dictionary'], // RFC 9421 §4
  ['content-digest', 'dictionary'], ['repr-digest', 'dictionary'], // RFC 9530 §2, §3
  ['want-content-digest', 'dictionary'], ['want-repr-digest', 'dictionary'], // RFC 9530 §4
  ['signature-agent', 'dictionary'], // draft-ietf-webbotauth-httpsig-protocol (current form)
  ['priority', 'dictionary'], // RFC 9218 §5
  ['cache-status', 'list'], ['proxy-status', 'list'], // RFC 9211, RFC 9209
  ['example-dict', 'dictionary'], // RFC 9421 §2.1.2's examples
])

export function isInnerList(v: Item | InnerList): v is InnerList {
  return Array.isArray(v[0])
}

/** Parses `value` as a field of `type`; throws GatewayError(code) without echoing the value. */
export function parseField(value: string, type: 'dictionary', code: ErrorCode, what: string): Dictionary
export function parseField(value: string, type: 'item', code: ErrorCode, what: string): Item
export function parseField(value: string, type: FieldType, code: ErrorCode, what: string): Dictionary | Item | ReturnType<typeof parseList>
export function parseField(value: string, type: FieldType, code: ErrorCode, what: string): Dictionary | Item | ReturnType<typeof parseList> {
  try {
    if (type === 'dictionary') return parseDictionary(value)
    if (type === 'list') return parseList(value)
    return parseItem(value)
  } catch (err) {
    throw new GatewayError(code, `${what} is not a valid structured field (RFC 9651 ${type})`, { cause: err })
  }
}

/** The strict serialization of a field value of a known type (RFC 9421 §2.1.1 `sf`). */
export function reserialize(value: string, type: FieldType, code: ErrorCode, what: string): string {
  const parsed = parseField(value, type, code, what)
  if (type === 'dictionary') return serializeDictionary(parsed as Dictionary)
  if (type === 'list') return serializeList(parsed as ReturnType<typeof parseList>)
  return serializeItem(parsed as Item)
}

/** A parameter's value as a string when it is a String or Token, else undefined. */
export function stringParam(params: Parameters, name: string): string | undefined {
  const v = params.get(name)
  if (typeof v === 'string') return v
  if (v instanceof Token) return v.toString()
  return undefined
}

// One line of a per-request header file: the value of `header`, or, when a
// case sends more than one varying field per request (`moreHeaders`, e.g.
// `Signature-Input` and `Signature`), their values joined by a tab, in
// order. Field values never hold a tab (RFC 9110 §5.5 allows it, but none of
// the credentials the bench signs do).

import type { LoadOptions } from '../lib/types.js'

export const HEADER_VALUE_SEPARATOR = '\t'

/** The field names one line carries, in order. */
export const lineHeaders = (f: NonNullable<LoadOptions['headerFile']> | { header: string; moreHeaders?: readonly string[] }): readonly string[] =>
  [f.header, ...(f.moreHeaders ?? [])]

/** Sets the fields of one line on `into` (the fixed ones are already there). */
export function applyLine(into: Record<string, string>, names: readonly string[], line: string): Record<string, string> {
  if (names.length === 1) {
    into[names[0]!] = line
    return into
  }
  const values = line.split(HEADER_VALUE_SEPARATOR)
  if (values.length !== names.length) throw new Error(`a per-request line has ${values.length} values for ${names.length} fields (${names.join(', ')})`)
  for (let i = 0; i < names.length; i++) into[names[i]!] = values[i]!
  return into
}

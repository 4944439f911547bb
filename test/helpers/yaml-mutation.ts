// What the two loader property suites (config-properties, acl-properties)
// share: the line model, the "problem points inside the text" check, the
// tap bridge for fast-check, and the structured YAML mutation engine. Each
// suite brings its own scalar values (the types its schema expects).

import fc from 'fast-check'
import type t from 'tap'
import type { Problem } from '../../src/config/yaml-source.js'

/** Lines as the YAML parser counts them: LF (and CRLF) break a line; a lone CR does not. */
export const linesOf = (text: string): string[] => text.split('\n')

/** Why `p` does not point inside `text`, or undefined. */
export function outsideText(text: string, p: Problem): string | undefined {
  // The brief allows one line past the end; LF-splitting already counts the empty line after a final newline, so none is needed.
  const lines = linesOf(text)
  if (p.line > lines.length) return `line ${p.line} past the last (${lines.length})`
  const length = lines[p.line - 1]!.length
  return p.col > length + 1 ? `column ${p.col} past the end of line ${p.line} (${length} characters)` : undefined
}

/** One tap assertion per property; a failure carries fast-check's shrunk counterexample, seed and path. */
export function holds<Ts extends [unknown, ...unknown[]]>(tt: Pick<typeof t, 'pass' | 'fail'>, name: string, property: fc.IRawProperty<Ts, false>, numRuns: number): void {
  const d = fc.check(property, { numRuns })
  if (!d.failed) return void tt.pass(name)
  tt.fail(name, {
    diagnostic: true,
    counterexample: fc.stringify(d.counterexample),
    error: d.errorInstance instanceof Error ? d.errorInstance.message : String(d.errorInstance),
    replay: { seed: d.seed, path: d.counterexamplePath },
  })
}

export type Mutation =
  | { readonly kind: 'delete' | 'duplicate'; readonly at: number }
  | { readonly kind: 'swap'; readonly at: number; readonly other: number }
  | { readonly kind: 'indent'; readonly at: number; readonly indent: string }
  | { readonly kind: 'scalar'; readonly at: number; readonly value: string }
  | { readonly kind: 'unknownKey'; readonly at: number; readonly key: string }
  | { readonly kind: 'truncate'; readonly at: number }

/** `key: value` or `- key: value`: a scalar value that can be swapped for one of another type. */
const KEY_VALUE_LINE = /^(\s*(?:- )?[A-Za-z_][\w-]*:)[ \t]+\S/

/** Mutations are the generated value (not the text), so a counterexample reads as a short list of edits. */
export function mutationsOf(scalarValue: fc.Arbitrary<string>): fc.Arbitrary<Mutation[]> {
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ kind: fc.constantFrom('delete' as const, 'duplicate' as const), at: fc.nat() }),
    fc.record({ kind: fc.constant('swap' as const), at: fc.nat(), other: fc.nat() }),
    fc.record({ kind: fc.constant('indent' as const), at: fc.nat(), indent: fc.constantFrom('', ' ', '  ', '   ', '    ', '      ', '\t', ' \t') }),
    fc.record({ kind: fc.constant('scalar' as const), at: fc.nat(), value: scalarValue }),
    fc.record({ kind: fc.constant('unknownKey' as const), at: fc.nat(), key: fc.oneof(fc.constant('zzz_unknown'), fc.stringMatching(/^[a-z][A-Za-z0-9_-]{0,12}$/)) }),
    fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  )
  return fc.array(mutation, { minLength: 1, maxLength: 4 })
}

function mutate(text: string, m: Mutation): string {
  if (m.kind === 'truncate') return text.slice(0, m.at % (text.length + 1))
  const lines = linesOf(text)
  const i = m.at % lines.length
  switch (m.kind) {
    case 'delete': lines.splice(i, 1); break
    case 'duplicate': lines.splice(i, 0, lines[i]!); break
    case 'swap': { const j = m.other % lines.length; [lines[i], lines[j]] = [lines[j]!, lines[i]!]; break }
    case 'indent': lines[i] = m.indent + lines[i]!.trimStart(); break
    case 'unknownKey': lines.splice(i, 0, `${/^\s*/.exec(lines[i]!)![0]}${m.key}: 1`); break
    case 'scalar':
      // The first `key: value` line at or after i, wrapping around.
      for (let k = 0; k < lines.length; k++) {
        const j = (i + k) % lines.length
        const match = KEY_VALUE_LINE.exec(lines[j]!)
        if (match) { lines[j] = `${match[1]} ${m.value}`; break }
      }
      break
  }
  return lines.join('\n')
}

export const applyAll = (base: string, ms: readonly Mutation[]): string => ms.reduce(mutate, base)

/** Token soup: up to 60 tokens of a file's vocabulary, joined. */
export const tokenSoup = (tokens: readonly string[]): fc.Arbitrary<string> =>
  fc.array(fc.constantFrom(...tokens), { maxLength: 60 }).map((parts) => parts.join(''))

/** Arbitrary texts a loader must survive: printable, any code point, raw bytes, and `soupLabel` (tokenSoup of `tokens`). */
export function arbitraryTexts(soupLabel: string, tokens: readonly string[]): Record<string, fc.Arbitrary<string>> {
  return {
    'fc.string (printable ASCII)': fc.string({ maxLength: 200 }),
    // fast-check 4 dropped fullUnicodeString; unit "binary" is every code point.
    'full Unicode': fc.string({ unit: 'binary', maxLength: 200 }),
    'byte soup decoded as latin1': fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('latin1')),
    [soupLabel]: tokenSoup(tokens),
  }
}

// Raw YAML is touched here and nowhere else. `readYaml` turns text into a
// small tree of nodes that remember where they came from, so every validator
// can report `file:line:col: key.path: what is wrong` (STYLE.md habit 2).

import { parseDocument, isMap, isSeq, isScalar, isAlias, isPair, type Node, type Document } from 'yaml'

export interface Pos { readonly line: number; readonly col: number }

export type YNode =
  | { readonly kind: 'map'; readonly pos: Pos; readonly entries: readonly YEntry[] }
  | { readonly kind: 'seq'; readonly pos: Pos; readonly items: readonly YNode[] }
  | { readonly kind: 'scalar'; readonly pos: Pos; readonly value: unknown }

export interface YEntry { readonly key: string; readonly keyPos: Pos; readonly value: YNode }

export interface Problem { readonly file: string; readonly line: number; readonly col: number; readonly path: string; readonly message: string }

/** Problems in the order a reader fixes them: file by file (first seen first), each by line and column. */
export function inLineOrder(list: readonly Problem[]): Problem[] {
  const files = [...new Set(list.map((p) => p.file))]
  return [...list].sort((a, b) => files.indexOf(a.file) - files.indexOf(b.file) || a.line - b.line || a.col - b.col)
}

export const formatProblem = (p: Problem): string => `${p.file}:${p.line}:${p.col}: ${p.path || '(root)'}: ${p.message}`

/** Collects problems for one file; validators call `at(node, path, message)`. */
export class Problems {
  readonly list: Problem[] = []
  constructor(readonly file: string) {}
  at(pos: Pos, path: string, message: string): void {
    this.list.push({ file: this.file, line: pos.line, col: pos.col, path, message })
  }
  get ok(): boolean { return this.list.length === 0 }
}

export interface YamlResult { readonly root: YNode | undefined; readonly problems: Problems }

const MAX_ALIAS_COUNT = 100 // billion-laughs guard

/** Nesting beyond this is refused before parsing: deep nesting overflows yaml's recursive composer, and V8 can then abort the whole process (no exception to catch). Real configs nest < 10 deep. */
export const MAX_NESTING = 64
const MAX_INDENT_COLUMNS = 256

/**
 * A cheap scan for nesting the parser must never see: flow collections
 * (`[[[…`), compact block sequences (`- - - …`) and indentation. Returns the
 * offset of the first excess, or -1. Conservative: quoted strings and
 * comments are skipped; anything ambiguous counts as nesting.
 */
function excessiveNesting(text: string): number {
  let flow = 0
  let quote = ''
  let lineStart = true
  let indent = 0
  let dashes = 0
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!
    if (c === '\n') { lineStart = true; indent = 0; dashes = 0; continue }
    if (quote) {
      if (c === '\\' && quote === '"') i++
      else if (c === quote) quote = ''
      continue
    }
    if (lineStart) {
      if (c === ' ' || c === '\t') { if (++indent > MAX_INDENT_COLUMNS) return i; continue }
      if ((c === '-' || c === '?') && (text[i + 1] === ' ' || text[i + 1] === '\t')) { if (++dashes > MAX_NESTING) return i; i++; continue }
      lineStart = false
    }
    if (c === '#' && (i === 0 || /\s/.test(text[i - 1]!))) { while (i + 1 < text.length && text[i + 1] !== '\n') i++; continue }
    if (c === '"' || c === "'") { quote = c; continue }
    if (c === '[' || c === '{') { if (++flow > MAX_NESTING) return i }
    else if ((c === ']' || c === '}') && flow > 0) flow--
  }
  return -1
}

/** 1-based line and column of `offset`, from the text's own line breaks (yaml's LineCounter can miss breaks swallowed by error recovery). */
function positionFinder(text: string): (offset: number | undefined) => Pos {
  const starts = [0]
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) starts.push(i + 1)
  return (offset) => {
    const o = Math.max(0, Math.min(offset ?? 0, text.length))
    let lo = 0, hi = starts.length - 1
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1
      if (starts[mid]! <= o) lo = mid
      else hi = mid - 1
    }
    return { line: lo + 1, col: o - starts[lo]! + 1 }
  }
}

export function readYaml(text: string, file: string): YamlResult {
  const problems = new Problems(file)
  const posOf = positionFinder(text)
  const deep = excessiveNesting(text)
  if (deep >= 0) {
    problems.at(posOf(deep), '', `nesting deeper than ${MAX_NESTING} levels (or indentation past ${MAX_INDENT_COLUMNS} columns) is not allowed`)
    return { root: undefined, problems }
  }
  let doc: Document.Parsed
  try {
    doc = parseDocument(text, { uniqueKeys: true, prettyErrors: false })
  } catch (err) {
    problems.at({ line: 1, col: 1 }, '', `cannot parse YAML: ${(err as Error).message}`)
    return { root: undefined, problems }
  }
  for (const e of doc.errors) problems.at(posOf(e.pos[0]), '', e.message.split('\n')[0]!)
  if (!problems.ok) return { root: undefined, problems }

  let aliasDepth = 0
  const convert = (node: unknown, fallback: Pos): YNode => {
    if (node == null) return { kind: 'scalar', pos: fallback, value: null }
    if (isAlias(node)) {
      if (++aliasDepth > MAX_ALIAS_COUNT) throw new Error('too many aliases')
      const target = node.resolve(doc)
      return convert(target, posOf(node.range?.[0]))
    }
    const n = node as Node
    const pos = posOf(n.range?.[0])
    if (isMap(n)) {
      const entries: YEntry[] = []
      for (const item of n.items) {
        if (!isPair(item)) continue
        const k = item.key
        const keyPos = k && typeof k === 'object' && 'range' in k ? posOf((k as Node).range?.[0]) : pos
        const keyValue = isScalar(k) ? k.value : k
        if (typeof keyValue !== 'string' && typeof keyValue !== 'number') {
          problems.at(keyPos, '', 'keys must be plain strings')
          continue
        }
        entries.push({ key: String(keyValue), keyPos, value: convert(item.value, keyPos) })
      }
      return { kind: 'map', pos, entries }
    }
    if (isSeq(n)) return { kind: 'seq', pos, items: n.items.map((i) => convert(i, pos)) }
    if (isScalar(n)) return { kind: 'scalar', pos, value: n.value }
    return { kind: 'scalar', pos, value: null }
  }
  try {
    const root = doc.contents == null ? undefined : convert(doc.contents, { line: 1, col: 1 })
    return { root, problems }
  } catch (err) {
    problems.at({ line: 1, col: 1 }, '', (err as Error).message)
    return { root: undefined, problems }
  }
}

/** Joins a key path the way problems print it: `keys.resolve["alice.test"]`, `rules[3].read`. */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number') return `${base}[${key}]`
  if (/^[A-Za-z_][A-Za-z0-9_-]*$/.test(key)) return base ? `${base}.${key}` : key
  return `${base}[${JSON.stringify(key)}]`
}

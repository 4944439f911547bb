// The reader toolkit the config sections (src/config/sections/), the scheme
// modules' sections (src/schemes/<name>/config.ts) and src/acl/parse.ts
// validate with: a `Section` is one YAML mapping whose allowed keys are known;
// readers turn one node into one typed value or report why not. Nothing here
// stops at the first problem: a bad value is reported and replaced by its
// default so the walk goes on and the operator sees every mistake in one run
// (STYLE.md, oauth2-proxy habit). A leaf: it knows no popgate value type
// (those are values.ts).

import { isIP } from 'node:net'
import { resolve as resolvePath } from 'node:path'
import { joinPath, type Pos, type Problems, type YNode } from './yaml-source.js'

/** Where a value came from: the config file, or one environment variable. */
export interface Source {
  readonly problems: Problems
  /** Relative file paths resolve against this directory. */
  readonly baseDir: string
}

/** An environment override, pretending to be a scalar at 1:1 of its own pseudo-file. */
export interface Override { readonly node: YNode; readonly source: Source }

export interface Context {
  readonly file: Source
  /** Keyed by key path (`replay.url`). */
  readonly overrides: ReadonlyMap<string, Override>
}

export const INVALID: unique symbol = Symbol('invalid')
export type Reader<T> = (node: YNode, path: string, source: Source) => T | typeof INVALID

/** A scalar check: the value, or a message saying what is wrong with it. */
export type Check<T> = (value: unknown, source: Source) => { readonly value: T } | string

export function scalar<T>(check: Check<T>): Reader<T> {
  return (node, path, source) => {
    // Hand the check a sentinel for maps and lists: it fails its own type test
    // and says what it expected, which reads better than a generic "not a map".
    const result = check(node.kind === 'scalar' ? node.value : node.kind === 'map' ? MAP : LIST, source)
    if (typeof result === 'string') {
      source.problems.at(node.pos, path, result)
      return INVALID
    }
    return result.value
  }
}

const MAP = Object.freeze({ toString: () => 'a map' })
const LIST = Object.freeze({ toString: () => 'a list' })

/** Short, safe description of a value for messages (never a whole long string). */
export function describe(v: unknown): string {
  if (v === MAP || v === LIST) return String(v)
  if (v === null) return 'null'
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)
  if (typeof v === 'number' || typeof v === 'boolean') return String(v)
  return 'a value of another type'
}

export class Section {
  private readonly byKey = new Map<string, { keyPos: Pos; value: YNode }>()
  /** Where problems about this section as a whole go. */
  readonly pos: Pos
  /** The file gives this section (as a map or not); absent sections read as all defaults. */
  readonly present: boolean
  /** Not a map: already reported, so missing keys inside are not reported again. */
  private broken = false

  constructor(
    private readonly ctx: Context,
    node: YNode | undefined,
    readonly path: string,
    known: readonly string[],
    /** Where "is required" and cross-key problems go: the section's key (`tls:`); by default the node itself. */
    at?: Pos,
  ) {
    this.pos = at ?? node?.pos ?? { line: 1, col: 1 }
    this.present = node !== undefined
    if (node === undefined) return
    if (node.kind !== 'map') {
      this.broken = true
      ctx.file.problems.at(node.pos, path, `must be a map with the keys ${known.join(', ')}; got ${node.kind === 'seq' ? 'a list' : describe(node.value)}`)
      return
    }
    for (const entry of node.entries) {
      if (!known.includes(entry.key)) {
        const guess = closestKey(entry.key, known)
        ctx.file.problems.at(entry.keyPos, joinPath(path, entry.key), `unknown key${guess ? `; did you mean "${guess}"?` : ''}`)
        continue
      }
      // A key with no value (`tls:`) or `null` means "not set": the default applies.
      if (entry.value.kind === 'scalar' && entry.value.value === null) continue
      this.byKey.set(entry.key, { keyPos: entry.keyPos, value: entry.value })
    }
  }

  /** Whether the file (or an environment override) gives this key a value. */
  has(key: string): boolean {
    return this.byKey.has(key) || this.ctx.overrides.has(joinPath(this.path, key))
  }

  /** The key's value, its default when absent, or the default after reporting why it is invalid. */
  get<T>(key: string, read: Reader<T>, fallback: T): T {
    const v = this.read(key, read)
    return v === undefined || v === INVALID ? fallback : v
  }

  /** Like `get`, but reports a missing key; `placeholder` only keeps the walk going. */
  required<T>(key: string, read: Reader<T>, placeholder: T): T {
    const v = this.read(key, read)
    if (v === undefined && !this.broken) this.ctx.file.problems.at(this.pos, joinPath(this.path, key), 'is required')
    return v === undefined || v === INVALID ? placeholder : v
  }

  /** A nested section (present or not: an absent one reads as all defaults). */
  sub(key: string, known: readonly string[]): Section {
    const entry = this.byKey.get(key)
    return new Section(this.ctx, entry?.value, joinPath(this.path, key), known, entry?.keyPos ?? this.pos)
  }

  /** Reports a problem about `key` where its value was given (file or environment), else at the section. */
  report(key: string, message: string): void {
    const path = joinPath(this.path, key)
    const override = this.ctx.overrides.get(path)
    if (override) return override.source.problems.at(override.node.pos, path, message)
    const entry = this.byKey.get(key)
    this.ctx.file.problems.at(entry?.value.pos ?? this.pos, path, message)
  }

  private read<T>(key: string, read: Reader<T>): T | typeof INVALID | undefined {
    const path = joinPath(this.path, key)
    // Environment wins over the file (PROTOCOL.md §8); the file's value is then not read at all.
    const override = this.ctx.overrides.get(path)
    if (override) return read(override.node, path, override.source)
    const entry = this.byKey.get(key)
    return entry === undefined ? undefined : read(entry.value, path, this.ctx.file)
  }
}

/** A list whose items are each read with `item`; invalid items are reported, not dropped silently. */
export function listOf<T>(item: Reader<T>, opts: { nonEmpty?: boolean; unique?: boolean } = {}): Reader<T[]> {
  return (node, path, source) => {
    if (node.kind !== 'seq') {
      source.problems.at(node.pos, path, `must be a list; got ${node.kind === 'map' ? 'a map' : describe(node.value)}`)
      return INVALID
    }
    if (opts.nonEmpty && node.items.length === 0) {
      source.problems.at(node.pos, path, 'must not be empty')
      return INVALID
    }
    const out: T[] = []
    let bad = false
    node.items.forEach((child, i) => {
      const v = item(child, joinPath(path, i), source)
      if (v === INVALID) return void (bad = true)
      if (opts.unique && out.includes(v)) {
        source.problems.at(child.pos, joinPath(path, i), `duplicate of an earlier item (${describe(v)})`)
        return void (bad = true)
      }
      out.push(v)
    })
    return bad ? INVALID : out
  }
}

/** A map with operator-chosen keys (`resolve`, `issuers`); `key` checks each key, `value` each value. */
export function mapOf<T>(key: Check<string>, value: Reader<T>): Reader<Record<string, T>> {
  return (node, path, source) => {
    if (node.kind !== 'map') {
      source.problems.at(node.pos, path, `must be a map; got ${node.kind === 'seq' ? 'a list' : describe(node.value)}`)
      return INVALID
    }
    const out: Record<string, T> = Object.create(null) as Record<string, T>
    let bad = false
    for (const entry of node.entries) {
      const childPath = joinPath(path, entry.key)
      const k = key(entry.key, source)
      if (typeof k === 'string') {
        source.problems.at(entry.keyPos, childPath, `key ${k}`)
        bad = true
      }
      const v = value(entry.value, childPath, source)
      if (v === INVALID) bad = true
      else if (typeof k !== 'string') out[k.value] = v
    }
    return bad ? INVALID : out
  }
}

// ---------------------------------------------------------------- checks

export const str: Check<string> = (v) => {
  if (typeof v !== 'string') return `must be a string; got ${describe(v)}`
  if (v.length === 0) return 'must not be empty'
  return { value: v }
}

export const bool: Check<boolean> = (v) => {
  if (typeof v === 'boolean') return { value: v }
  // YAML 1.1 habits: `yes`/`on` are plain strings in YAML 1.2, say so.
  if (typeof v === 'string' && /^(yes|no|on|off|y|n|true|false)$/i.test(v)) return `must be true or false (YAML 1.2: ${describe(v)} is a string)`
  return `must be true or false; got ${describe(v)}`
}

export function positiveInt(max = Number.MAX_SAFE_INTEGER): Check<number> {
  return (v) => {
    if (typeof v !== 'number' || !Number.isInteger(v)) return `must be a whole number; got ${describe(v)}`
    if (v < 1) return 'must be at least 1'
    if (v > max) return `must be at most ${max}`
    return { value: v }
  }
}

export function oneOf<T extends string>(allowed: readonly T[]): Check<T> {
  return (v) => {
    if (typeof v === 'string' && (allowed as readonly string[]).includes(v)) return { value: v as T }
    const caseFix = typeof v === 'string' ? allowed.find((a) => a.toLowerCase() === v.toLowerCase()) : undefined
    return `must be one of ${allowed.join(', ')}; got ${describe(v)}${caseFix ? ` (did you mean "${caseFix}"?)` : ''}`
  }
}

/** A file path; relative ones resolve against the source's directory (config file dir, or cwd for env). */
export const filePath: Check<string> = (v, source) => {
  const s = str(v, source)
  if (typeof s === 'string') return s
  if (s.value.includes('\0')) return 'must not contain a NUL character'
  return { value: resolvePath(source.baseDir, s.value) }
}

/** An IP literal (v4 or v6) as node:net understands it. */
export const ipLiteral: Check<string> = (v) => {
  if (typeof v !== 'string') return `must be an IP address; got ${describe(v)}`
  if (isIP(v) === 0) return `must be an IPv4 or IPv6 address; got ${describe(v)}`
  return { value: v }
}

/** Combines a check with a further rule on its result. */
export function refine<T, U>(check: Check<T>, then: (value: T, source: Source) => { readonly value: U } | string): Check<U> {
  return (v, source) => {
    const r = check(v, source)
    return typeof r === 'string' ? r : then(r.value, source)
  }
}

// ---------------------------------------------------------------- suggestions

/**
 * The known key an unknown one was probably meant to be: same letters ignoring
 * case and `_`/`-` (`public_origin`), or within a small edit distance
 * (`upsteam`, `lsiten`). Only a single clear winner is suggested.
 */
export function closestKey(key: string, known: readonly string[]): string | undefined {
  const squash = (s: string): string => s.toLowerCase().replace(/[-_]/g, '')
  const exact = known.filter((k) => squash(k) === squash(key))
  if (exact.length === 1) return exact[0]
  const limit = key.length <= 4 ? 1 : 2
  let best: string | undefined
  let bestDistance = limit + 1
  let tie = false
  for (const k of known) {
    const d = editDistance(squash(key), squash(k))
    if (d < bestDistance) [best, bestDistance, tie] = [k, d, false]
    else if (d === bestDistance) tie = true
  }
  return best !== undefined && !tie ? best : undefined
}

/** Optimal string alignment distance: Levenshtein plus adjacent transpositions. */
function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1)
      d[i]![j] = v
    }
  }
  return d[a.length]![b.length]!
}

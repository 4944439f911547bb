// `groups:` in acl.yaml: named sets of domain patterns that rules (and other
// groups) use as `group:<name>` (issue 25). Groups are expanded once, at load,
// into the patterns they name, each remembering the group it came from, so
// the per-request decision stays a walk over plain patterns (decide.ts) and
// `acl explain` can still say which group let an identity in.

import { INVALID, closestKey, describe, listOf, type Reader, type Source } from '../config/readers.js'
import { joinPath, type Pos, type YNode } from '../config/yaml-source.js'
import { parseDomainPattern, type DomainPattern } from '../identity/domain.js'

export const GROUP_PREFIX = 'group:'

/** A pattern as written in a rule or group: a domain pattern, or a reference to a group, resolved later. */
export type PatternRef =
  | { readonly kind: 'pattern'; readonly pattern: DomainPattern }
  | { readonly kind: 'group'; readonly name: string; readonly pos: Pos; readonly path: string }

/** A group as read from the file, before its references are followed. */
export interface GroupEntry { readonly refs: readonly PatternRef[]; readonly pos: Pos }

const GROUP_NAME = /^[a-z][a-z0-9_-]{0,31}$/

export const readPatternRef: Reader<PatternRef> = (node, path, source) => {
  const v = node.kind === 'scalar' ? node.value : undefined
  if (node.kind !== 'scalar') return fail(source, node, path, `must be a domain pattern or group:<name>; got ${node.kind === 'map' ? 'a map' : 'a list'}`)
  // YAML reads an unquoted `*.partner.example` as an alias to an anchor that does not exist: null.
  if (v === null) return fail(source, node, path, 'is empty; quote patterns that start with "*" ("*.partner.example", "*"): YAML reads an unquoted * as an alias')
  if (typeof v === 'string' && v.startsWith(GROUP_PREFIX)) {
    const name = v.slice(GROUP_PREFIX.length)
    if (!GROUP_NAME.test(name)) return fail(source, node, path, 'a group name must be 1-32 lowercase letters, digits, "_" or "-", starting with a letter')
    return { kind: 'group', name, pos: node.pos, path }
  }
  const p = parseDomainPattern(v)
  if (typeof p === 'string') return fail(source, node, path, p)
  return { kind: 'pattern', pattern: p }
}

export const readGroups: Reader<ReadonlyMap<string, GroupEntry>> = (node, path, source) => {
  if (node.kind !== 'map') return fail(source, node, path, `must be a map of group name → domain patterns; got ${node.kind === 'seq' ? 'a list' : describe(node.value)}`)
  // Bad entries are reported and left out; the good ones are kept so that
  // references to them are still checked (a cycle, a typo) in the same run.
  const groups = new Map<string, GroupEntry>()
  for (const entry of node.entries) {
    const groupPath = joinPath(path, entry.key)
    if (!GROUP_NAME.test(entry.key)) source.problems.at(entry.keyPos, groupPath, 'a group name must be 1-32 lowercase letters, digits, "_" or "-", starting with a letter')
    const refs = listOf(readPatternRef, { nonEmpty: true })(entry.value, groupPath, source)
    if (refs !== INVALID) groups.set(entry.key, { refs, pos: entry.keyPos })
  }
  return groups
}

/**
 * Every group expanded to the patterns it names, following references to
 * other groups. A reference to an unknown group, or a group that reaches
 * itself (directly or through others), is a problem at the reference.
 */
export function resolveGroups(groups: ReadonlyMap<string, GroupEntry>, source: Source): ReadonlyMap<string, readonly DomainPattern[]> {
  const done = new Map<string, readonly DomainPattern[]>()
  const visiting: string[] = []
  const visit = (name: string): readonly DomainPattern[] => {
    const known = done.get(name)
    if (known) return known
    visiting.push(name)
    const out: DomainPattern[] = []
    for (const ref of groups.get(name)!.refs) {
      if (ref.kind === 'pattern') out.push(withGroup(ref.pattern, name))
      else if (visiting.includes(ref.name)) {
        const cycle = [...visiting.slice(visiting.indexOf(ref.name)), ref.name].map((g) => GROUP_PREFIX + g).join(' → ')
        source.problems.at(ref.pos, ref.path, ref.name === name ? `group "${name}" names itself` : `groups name each other in a cycle: ${cycle}`)
      } else if (!groups.has(ref.name)) reportUnknown(ref, groups, source)
      // A nested group's patterns are reported as coming from the group the rule named.
      else for (const p of visit(ref.name)) out.push(withGroup(p, name))
    }
    visiting.pop()
    const frozen = Object.freeze(out)
    done.set(name, frozen)
    return frozen
  }
  for (const name of groups.keys()) visit(name)
  return done
}

/** A rule's pattern list with its group references replaced by what they name. */
export function expandRefs(refs: readonly PatternRef[], groups: ReadonlyMap<string, readonly DomainPattern[]>, known: ReadonlyMap<string, GroupEntry>, source: Source): DomainPattern[] {
  const out: DomainPattern[] = []
  for (const ref of refs) {
    if (ref.kind === 'pattern') out.push(ref.pattern)
    else {
      const patterns = groups.get(ref.name)
      if (patterns === undefined) reportUnknown(ref, known, source)
      else out.push(...patterns)
    }
  }
  return out
}

/** The group names some rule or group refers to. */
export function referencedGroups(lists: Iterable<readonly PatternRef[]>): Set<string> {
  const used = new Set<string>()
  for (const refs of lists) for (const r of refs) if (r.kind === 'group') used.add(r.name)
  return used
}

function withGroup(p: DomainPattern, group: string): DomainPattern {
  return Object.freeze({ ...p, group })
}

function reportUnknown(ref: { name: string; pos: Pos; path: string }, groups: ReadonlyMap<string, unknown>, source: Source): void {
  const guess = closestKey(ref.name, [...groups.keys()])
  source.problems.at(ref.pos, ref.path, `no group named "${ref.name}" in "groups"${guess ? `; did you mean "${GROUP_PREFIX}${guess}"?` : ''}`)
}

function fail(source: Source, node: YNode, path: string, message: string): typeof INVALID {
  source.problems.at(node.pos, path, message)
  return INVALID
}

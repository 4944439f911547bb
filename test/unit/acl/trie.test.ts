// The trie (src/acl/trie.ts) against the plain reading of "first match wins":
// a linear scan with one regular expression per rule, written here
// independently of src/acl/path-pattern.ts.

import fc from 'fast-check'
import t from 'tap'
import { compileAcl, explain, matchRule, type RuleSpec } from '../../../src/acl/index.js'
import { patternCovers, patternMatches, splitPath } from '../../../src/acl/path-pattern.js'
import type { Acl, Rule } from '../../../src/acl/types.js'

const METHODS = ['GET', 'POST', 'PUT', 'DELETE'] as const

/** `/a/*` → ^/a/[^/]+$ ; `/a/**` → ^/a(?:/.*)?$ */
function regexOf(pattern: string): RegExp {
  const segments = pattern.slice(1).split('/')
  const rest = segments[segments.length - 1] === '**'
  if (rest) segments.pop()
  const body = segments.map((s) => '/' + (s === '*' ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('')
  return new RegExp('^' + body + (rest ? '(?:/.*)?' : '') + '$')
}

function linearMatcher(acl: Acl): (method: string, path: string) => Rule | undefined {
  const compiled = acl.rules.map((rule) => ({ rule, re: regexOf(rule.path) }))
  return (method, path) => compiled.find(({ rule, re }) => re.test(path) && (rule.methods === undefined || rule.methods.has(method)))?.rule
}

const pathOf = (segments: readonly string[]): string => '/' + segments.join('/')

/** Valid patterns over `letters`: literals, `*`, an optional trailing slash or `**`. */
function patternArb(letters: readonly string[], maxDepth: number, wildcardWeight: number): fc.Arbitrary<string> {
  const segment = fc.oneof({ arbitrary: fc.constantFrom(...letters), weight: 10 }, { arbitrary: fc.constant('*'), weight: wildcardWeight })
  const ending = fc.oneof({ arbitrary: fc.constant([] as string[]), weight: 6 }, { arbitrary: fc.constant(['']), weight: 1 }, { arbitrary: fc.constant(['**']), weight: wildcardWeight })
  return fc.tuple(fc.array(segment, { maxLength: maxDepth }), ending).map(([segs, end]) => {
    const all = [...segs, ...end]
    return pathOf(all.length === 0 ? [''] : all)
  })
}

const ruleArb = (letters: readonly string[], maxDepth: number, wildcardWeight: number): fc.Arbitrary<RuleSpec> =>
  fc.record({
    path: patternArb(letters, maxDepth, wildcardWeight),
    methods: fc.option(fc.subarray([...METHODS], { minLength: 1 }), { nil: undefined, freq: 1 }),
  }).map((r) => ({ ...r, public: true }))

/** A request path: a random rule's pattern with its wildcards filled in, or a random path. */
function requestArb(acl: Acl, letters: readonly string[]): fc.Arbitrary<string> {
  const letter = fc.constantFrom(...letters, 'zz')
  const random = fc.tuple(fc.array(letter, { maxLength: 6 }), fc.boolean()).map(([segs, slash]) => pathOf(slash || segs.length === 0 ? [...segs, ''] : segs))
  if (acl.rules.length === 0) return random
  const fromRule = fc.tuple(fc.nat(acl.rules.length - 1), fc.infiniteStream(letter), fc.nat(3), fc.boolean()).map(([i, letters, restLength, slash]) => {
    const out: string[] = []
    for (const s of splitPath(acl.rules[i]!.path)) {
      if (s === '*') out.push(letters.next().value)
      else if (s === '**') for (let k = 0; k < restLength; k++) out.push(letters.next().value)
      else out.push(s)
    }
    if (slash && out[out.length - 1] !== '') out.push('')
    return pathOf(out)
  })
  return fc.oneof({ arbitrary: fromRule, weight: 4 }, { arbitrary: random, weight: 1 })
}

t.test('10,000 rules: the trie picks the same rule as a linear scan', async (t) => {
  // Two literal leading segments out of 400 combinations keep broad rules
  // (`/x/**`) from deciding everything early, so rules deep in the list win too.
  const prefix = 'abcdefghijklmnopqrst'.split('')
  const letters = ['a', 'b', 'c', 'd']
  const deepRule = fc.tuple(fc.constantFrom(...prefix), fc.constantFrom(...prefix), ruleArb(letters, 3, 1))
    .map(([s1, s2, r]): RuleSpec => ({ ...r, path: `/${s1}/${s2}${r.path === '/' ? '' : r.path}` }))
  const specs = fc.sample(deepRule, { numRuns: 10_000, seed: 20240601 })
  const acl = compileAcl({ file: 'generated', rules: specs })
  t.equal(acl.rules.length, 10_000)
  const linear = linearMatcher(acl)
  const winners: number[] = []
  fc.assert(
    fc.property(requestArb(acl, [...prefix, ...letters]), fc.constantFrom(...METHODS, 'PATCH'), (path, method) => {
      const got = matchRule(acl, method, path)
      const want = linear(method, path)
      winners.push(got?.index ?? -1)
      return got === want
    }),
    { numRuns: 4000, seed: 7 },
  )
  // The test is only as good as the rules it reaches: make sure deep rules win too.
  const deep = winners.filter((i) => i >= 1000).length
  const none = winners.filter((i) => i === -1).length
  t.ok(deep > winners.length / 10, `rules past index 1000 decide ${deep} of ${winners.length} requests`)
  t.ok(none > 0 && none < winners.length / 2, `no rule matches ${none} of ${winners.length} requests`)
})

t.test('small random ACLs: trie = linear scan = explain, for any path and method', async (t) => {
  const letters = ['a', 'b', '']
  fc.assert(
    fc.property(
      fc.array(ruleArb(['a', 'b'], 3, 3), { maxLength: 25 }).chain((specs) => {
        const acl = compileAcl({ file: 'generated', rules: specs })
        return fc.tuple(fc.constant(acl), fc.array(requestArb(acl, letters.filter(Boolean)), { minLength: 1, maxLength: 20 }), fc.constantFrom(...METHODS))
      }),
      ([acl, paths, method]) => {
        const linear = linearMatcher(acl)
        for (const path of paths) {
          const got = matchRule(acl, method, path)
          if (got !== linear(method, path)) return false
          if (explain(acl, undefined, method, path).decision.rule !== got) return false
        }
        return true
      },
    ),
    { numRuns: 3000, seed: 11 },
  )
  t.pass('3000 random ACLs agree')
})

t.test('patternMatches agrees with the regular expressions', async (t) => {
  fc.assert(
    fc.property(patternArb(['a', 'b'], 4, 3), fc.array(fc.constantFrom('a', 'b', ''), { maxLength: 5 }), (pattern, segs) => {
      const path = pathOf(segs.length === 0 ? [''] : segs)
      return patternMatches(splitPath(pattern), splitPath(path)) === regexOf(pattern).test(path)
    }),
    { numRuns: 20_000, seed: 3 },
  )
  t.pass()
})

t.test('patternCovers is exact: sound on random paths, and a witness exists when it says no', async (t) => {
  const pattern = patternArb(['a', 'b'], 3, 4)
  const fill = (segments: string[], filler: string, restLength: number): string => {
    const out: string[] = []
    for (const s of segments) {
      if (s === '*') out.push(filler)
      else if (s === '**') for (let k = 0; k < restLength; k++) out.push(filler)
      else out.push(s)
    }
    return pathOf(out)
  }
  fc.assert(
    fc.property(pattern, pattern, fc.constantFrom('a', 'b', 'zz'), fc.nat(3), (outer, inner, filler, restLength) => {
      const o = splitPath(outer)
      const i = splitPath(inner)
      if (patternCovers(o, i)) {
        const path = fill(i, filler, restLength)
        return !regexOf(inner).test(path) || regexOf(outer).test(path)
      }
      // Fresh literal `zz` for wildcards; `**` as zero or one segment: one of these escapes `outer`.
      return [fill(i, 'zz', 0), fill(i, 'zz', 1)].some((path) => regexOf(inner).test(path) && !regexOf(outer).test(path))
    }),
    { numRuns: 20_000, seed: 5 },
  )
  t.pass()
})

t.test('the trie finds exactly the rules whose pattern covers a pattern', async (t) => {
  fc.assert(
    fc.property(fc.array(ruleArb(['a', 'b'], 3, 3), { minLength: 1, maxLength: 30 }), (specs) => {
      const acl = compileAcl({ file: 'generated', rules: specs })
      return acl.rules.every((rule) => {
        const got = acl.matcher.covering(splitPath(rule.path)).map((r) => r.index).sort((a, b) => a - b)
        const want = acl.rules.filter((r) => patternCovers(splitPath(r.path), splitPath(rule.path))).map((r) => r.index)
        return got.join() === want.join()
      })
    }),
    { numRuns: 2000, seed: 13 },
  )
  t.pass()
})

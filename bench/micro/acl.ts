// ACL decision cost: matchRule + authorize (what the pipeline runs per
// request), 10 rules vs 10,000. Two comparisons: the same 12 requests to
// both ACLs (only the rule count differs), and 4,096 distinct requests of the
// same shapes spread over each ACL's own rules (varied traffic: with 10,000
// rules the walk touches a different part of a much larger trie each time).
// Rounds alternate between the ACLs so machine noise hits both alike; the
// best round of each is reported (the least-disturbed estimate).

import { parseAcl, matchRule, authorize, type Acl } from '../../src/acl/index.js'
import { isIdentity, type Identity } from '../../src/identity/domain.js'
import { aclYaml } from '../lib/acl-sets.js'

export interface AclMicroRow {
  readonly label: string
  readonly rules: number
  readonly nsPerDecision: number
  readonly medianNs: number
}

export interface AclMicroResult {
  readonly decisionsPerRound: number
  readonly rounds: number
  readonly rows: readonly AclMicroRow[]
  /** 10,000-rule cost / 10-rule cost on the same 12 requests (best rounds). */
  readonly ratio: number
  /** 4,096 distinct requests over 10,000 rules / the same shapes over 10 rules (best rounds). */
  readonly ratioDistinct: number
}

interface Query { readonly method: string; readonly path: string; readonly identity: Identity | undefined }

const id = (s: string): Identity => {
  if (!isIdentity(s)) throw new Error(`bad identity ${s}`)
  return s
}

/** Requests the ten base rules decide (allowed, denied, public, unmatched), as a gateway sees them. */
const BASE_MIX: readonly Query[] = [
  { method: 'GET', path: '/api/data', identity: id('alice.test') },
  { method: 'GET', path: '/public/hello', identity: undefined },
  { method: 'GET', path: '/reports/q3/summary', identity: id('eu.partner.test') },
  { method: 'POST', path: '/reports/q3', identity: id('eu.partner.test') },
  { method: 'GET', path: '/users/bob/profile', identity: id('bob.test') },
  { method: 'PUT', path: '/users/alice/items/42', identity: id('alice.test') },
  { method: 'POST', path: '/uploads/2024/file.bin', identity: id('alice.test') },
  { method: 'GET', path: '/healthz', identity: undefined },
  { method: 'GET', path: '/api/admin/keys', identity: id('mallory.test') },
  { method: 'GET', path: '/nowhere/at/all', identity: id('alice.test') },
  { method: 'GET', path: '/docs/guide/intro', identity: id('carol.test') },
  { method: 'DELETE', path: '/api/v1/items/7', identity: id('alice.test') },
]

/**
 * `n` distinct requests spread over the first `generated` generated rules
 * (same path shapes and depths whatever the ACL's size), each allowed.
 */
function spreadMix(generated: number, n: number): Query[] {
  const out: Query[] = []
  for (let k = 0; k < n; k++) {
    const i = (k * 7919) % generated
    switch (i % 5) {
      case 0: out.push({ method: 'GET', path: `/tenants/t${i}/reports/${k}/q1`, identity: id(`eu.t${i}.partner.test`) }); break
      case 1: out.push({ method: 'POST', path: `/api/svc${i}/jobs/${k}`, identity: id(`svc${i}.internal.test`) }); break
      case 2: out.push({ method: 'GET', path: `/users/u${k}/apps/app${i}`, identity: id('alice.test') }); break
      case 3: out.push({ method: 'GET', path: `/docs/v${i}/p${k}`, identity: id('carol.test') }); break
      default: out.push({ method: 'PUT', path: `/tenants/t${i}/admin/x${k}/settings`, identity: id(`admin.t${i}.example.test`) })
    }
  }
  return out
}

function load(total: number, base = true): Acl {
  const { acl, problems } = parseAcl(aclYaml(total, { base }), `<bench ${total} rules>`)
  if (!acl) throw new Error(`bench ACL did not parse: ${JSON.stringify(problems.slice(0, 3))}`)
  return acl
}

/** ns per decision over `n` decisions cycling through `mix`. */
function timeDecisions(acl: Acl, mix: readonly Query[], n: number): { ns: number; allowed: number } {
  let allowed = 0
  const len = mix.length
  const t0 = process.hrtime.bigint()
  for (let i = 0; i < n; i++) {
    const q = mix[i % len]!
    const rule = matchRule(acl, q.method, q.path)
    if (authorize(acl, rule, q.identity, q.method).allow) allowed++
  }
  const ns = Number(process.hrtime.bigint() - t0) / n
  return { ns, allowed } // `allowed` is returned so the loop cannot be optimized away
}

export function runAclMicro(opts: { decisionsPerRound?: number; rounds?: number } = {}): AclMicroResult {
  const n = opts.decisionsPerRound ?? 400_000
  const rounds = opts.rounds ?? 11
  const small = load(10), big = load(10_000), smallGenerated = load(10, false)
  const configs = [
    { label: 'base 10 rules, 12 requests', rules: 10, acl: small, mix: BASE_MIX },
    { label: '10,000 rules (base 10 last), same 12 requests', rules: 10_000, acl: big, mix: BASE_MIX },
    { label: '10 generated rules, 4,096 distinct requests over them', rules: 10, acl: smallGenerated, mix: spreadMix(10, 4096) },
    { label: '10,000 rules, 4,096 distinct requests over all 9,990 generated', rules: 10_000, acl: big, mix: spreadMix(9_990, 4096) },
  ]
  // Sanity: the big ACL decides the base mix exactly as the small one does.
  for (const q of BASE_MIX) {
    const a = authorize(small, matchRule(small, q.method, q.path), q.identity, q.method)
    const b = authorize(big, matchRule(big, q.method, q.path), q.identity, q.method)
    if (a.allow !== b.allow || a.rule?.id !== b.rule?.id) throw new Error(`ACL sets disagree on ${q.method} ${q.path}`)
  }
  for (const c of configs) {
    if (c.mix !== BASE_MIX && timeDecisions(c.acl, c.mix, c.mix.length).allowed !== c.mix.length) throw new Error(`${c.label}: not every request allowed; the mix does not fit the ACL`)
    timeDecisions(c.acl, c.mix, Math.min(n, 200_000)) // JIT warm-up
  }
  const samples = configs.map(() => [] as number[])
  for (let r = 0; r < rounds; r++) configs.forEach((c, i) => samples[i]!.push(timeDecisions(c.acl, c.mix, n).ns))
  const rows = configs.map((c, i) => {
    const s = [...samples[i]!].sort((x, y) => x - y)
    return { label: c.label, rules: c.rules, nsPerDecision: s[0]!, medianNs: s[Math.floor(s.length / 2)]! }
  })
  return { decisionsPerRound: n, rounds, rows, ratio: rows[1]!.nsPerDecision / rows[0]!.nsPerDecision, ratioDistinct: rows[3]!.nsPerDecision / rows[2]!.nsPerDecision }
}

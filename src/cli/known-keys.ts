// `popgate keys list [IDENTITY]` and `popgate keys approve IDENTITY THUMBPRINT`:
// the key records (issue 25) through a gateway's admin listener
// (GET /keys[/IDENTITY], POST /keys/approve/IDENTITY/THUMBPRINT). With a
// Redis replay store every replica shares them: one approval reaches all.
import { parseArgs } from 'node:util'
import { originOption } from './keys.js'
import { identityProblem } from '../identity/domain.js'
import { THUMBPRINT, type KeyView } from '../keys/trust.js'
import { unreachable } from './net.js'
import { UsageError, CliError, EXIT } from './usage.js'

function checkIdentity(identity: string): void {
  const why = identityProblem(identity)
  if (why) throw new UsageError(`${identity}: not an identity: ${why}`)
}

async function call(url: string, method: 'GET' | 'POST', admin: string): Promise<unknown> {
  let res: Response
  try { res = await fetch(url, { method }) } catch (err) { throw unreachable(url, err) }
  const body = await res.text()
  if (!res.ok) {
    let why = body.trim()
    try { why = (JSON.parse(body) as { error?: string }).error ?? why } catch { /* not JSON: printed as is */ }
    throw new CliError(`${admin} answered ${res.status}: ${why}`, EXIT.denied)
  }
  return JSON.parse(body)
}

const age = (s: number | undefined): string => s === undefined ? '-' : s < 120 ? `${s}s` : s < 7200 ? `${Math.floor(s / 60)}m` : s < 172800 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86400)}d`

export function formatKeys(keys: readonly KeyView[]): string {
  if (keys.length === 0) return 'no keys known\n'
  const rows = [['IDENTITY', 'THUMBPRINT', 'STATE', 'AGE', 'ALG', 'SCHEME', 'LAST SEEN', 'FROM']]
  for (const k of keys) rows.push([k.identity, k.thumbprint, k.pinned && k.state !== 'pinned' ? `${k.state},pinned` : k.state, age(k.ageSeconds), k.alg ?? '-', k.scheme ?? '-', k.lastSeen ?? '-', k.url ?? '-'])
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)))
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n') + '\n'
}

export async function runKeys(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub !== 'list' && sub !== 'approve') throw new UsageError(sub === undefined ? 'keys needs a subcommand: list or approve' : `unknown subcommand "${sub}"; the subcommands are list and approve`)
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { admin: { type: 'string', default: 'http://127.0.0.1:9090' }, json: { type: 'boolean', default: false } } })
  const admin = originOption(values.admin, '--admin')
  if (sub === 'list') {
    if (positionals.length > 1) throw new UsageError('keys list takes at most one IDENTITY')
    const identity = positionals[0]
    if (identity !== undefined) checkIdentity(identity)
    const { keys } = await call(`${admin}/keys${identity === undefined ? '' : `/${identity}`}`, 'GET', admin) as { keys: KeyView[] }
    process.stdout.write(values.json ? JSON.stringify(keys, null, 2) + '\n' : formatKeys(keys))
    return EXIT.ok
  }
  if (positionals.length !== 2) throw new UsageError('keys approve takes IDENTITY THUMBPRINT')
  const [identity, thumbprint] = positionals as [string, string]
  checkIdentity(identity)
  if (!THUMBPRINT.test(thumbprint)) throw new UsageError(`${thumbprint.slice(0, 60)}: not an RFC 7638 SHA-256 thumbprint (43 base64url characters; popgate keys list shows them)`)
  const key = await call(`${admin}/keys/approve/${identity}/${thumbprint}`, 'POST', admin) as KeyView
  process.stdout.write(`approved: ${key.identity} key ${key.thumbprint}${key.firstSeen === undefined ? ' (not seen yet: it is accepted when it comes)' : ''}\n`)
  return EXIT.ok
}

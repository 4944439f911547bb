// `popgate sessions revoke IDENTITY`: ends every ticket and cookie of an
// identity, through a gateway's admin listener (POST /sessions/revoke/<id>).
// With a Redis replay store one call reaches every replica.
import { parseArgs } from 'node:util'
import { originOption } from './keys.js'
import { identityProblem } from '../identity/domain.js'
import { unreachable } from './net.js'
import { UsageError, CliError, EXIT } from './usage.js'

export async function runSessions(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv
  if (sub !== 'revoke') throw new UsageError(sub === undefined ? 'sessions needs a subcommand: revoke' : `unknown subcommand "${sub}"; the one subcommand is revoke`)
  const { values, positionals } = parseArgs({ args: rest, allowPositionals: true, options: { admin: { type: 'string', default: 'http://127.0.0.1:9090' } } })
  if (positionals.length !== 1) throw new UsageError('sessions revoke takes one IDENTITY')
  const identity = positionals[0]!
  const why = identityProblem(identity)
  if (why) throw new UsageError(`${identity}: not an identity: ${why}`)
  const admin = originOption(values.admin, '--admin')
  const url = `${admin}/sessions/revoke/${identity}`
  let res: Response
  try { res = await fetch(url, { method: 'POST' }) } catch (err) { throw unreachable(url, err) }
  const body = await res.text()
  if (!res.ok) {
    let why = body.trim()
    try { why = (JSON.parse(body) as { error?: string }).error ?? why } catch { /* not JSON: printed as is */ }
    throw new CliError(`${admin} answered ${res.status}: ${why}`, EXIT.denied)
  }
  const { notBefore } = JSON.parse(body) as { notBefore: string }
  process.stdout.write(`revoked: every ticket and cookie of ${identity} minted before ${notBefore}\n`)
  return EXIT.ok
}

// `popgate fetch`: a curl-like client that signs DomainPoP proofs.
import { parseArgs } from 'node:util'
import { createDomainPopFetch } from '../client/fetch.js'
import { UsageError } from './usage.js'

export async function runFetch(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({ args: argv, allowPositionals: true, options: {
    identity: { type: 'string' }, key: { type: 'string' }, 'key-url': { type: 'string' }, audience: { type: 'string' },
    request: { type: 'string', short: 'X' }, header: { type: 'string', short: 'H', multiple: true }, data: { type: 'string', short: 'd' },
    include: { type: 'boolean', short: 'i' }, session: { type: 'string', default: 'none' },
  } })
  const url = positionals[0]
  if (!url) throw new UsageError('fetch needs a URL')
  if (!values.identity || !values.key || !values['key-url']) throw new UsageError('fetch needs --identity, --key and --key-url')
  if (values.session !== 'none') throw new UsageError('--session ticket is not available in this version')
  const headers = new Headers()
  for (const h of values.header ?? []) {
    const i = h.indexOf(':')
    if (i <= 0) throw new UsageError(`-H ${h}: expected "Name: value"`)
    headers.append(h.slice(0, i).trim(), h.slice(i + 1).trim())
  }
  const doFetch = createDomainPopFetch({ identity: values.identity, keyUrl: values['key-url'], privateKey: values.key, audience: values.audience })
  const method = values.request ?? (values.data !== undefined ? 'POST' : 'GET')
  const res = await doFetch(url, { method, headers, body: values.data })
  if (values.include) {
    process.stdout.write(`HTTP ${res.status} ${res.statusText}\n`)
    res.headers.forEach((v, k) => process.stdout.write(`${k}: ${v}\n`))
    process.stdout.write('\n')
  }
  process.stdout.write(Buffer.from(await res.arrayBuffer()))
  return res.ok ? 0 : 1
}

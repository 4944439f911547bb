// Issue 11 finding 6: config messages never print values from the secrets
// file, keys included. A secret pasted as a YAML key (or as an unknown key
// inside an entry) is refused on reload; neither the problems returned nor
// the log lines of the refused reload hold its bytes.

import t from 'tap'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { randomBytes } from 'node:crypto'
import { startTestGateway, startUpstream, waitFor } from '../../helpers/harness.js'
import { formatProblem } from '../../../src/config/yaml-source.js'
import { parseSecrets } from '../../../src/secrets/load.js'

const secret = () => randomBytes(32).toString('base64url')

t.test('a secret written as a key is not echoed by the secrets parser', async (t) => {
  const [s1, s2, s3] = [secret(), secret(), secret()]
  const text = `nonce:\n  - id: n1\n    secret: ${s1}\n    ${s2}: x\n${s3}: y\n"${s1.slice(0, 20)}": z\n`
  const { secrets, problems } = parseSecrets(text, '/etc/popgate/secrets.yaml')
  t.notOk(secrets)
  t.equal(problems.length, 3, 'each unknown key is still reported, at its line')
  t.same(problems.map((p) => p.line), [4, 5, 6])
  const out = problems.map(formatProblem).join('\n')
  for (const s of [s1, s2, s3, s1.slice(0, 20)]) t.notOk(out.includes(s), 'no secret bytes in the problems')
  t.match(out, /unknown key/)
})

t.test('a refused reload logs no secret bytes', async (t) => {
  const up = await startUpstream()
  const dir = await mkdtemp(join(tmpdir(), 'popgate-echo-'))
  const file = join(dir, 'secrets.yaml')
  await writeFile(file, `nonce:\n  - id: n1\n    secret: ${secret()}\n`)
  const started = await startTestGateway({ upstream: up.url, extraConfig: `secrets:\n  file: ${file}` })
  t.teardown(async () => { await started.close(); await up.close(); await rm(dir, { recursive: true, force: true }) })
  const [kept, pasted, nested] = [secret(), secret(), secret()]
  await writeFile(file, `nonce:\n  - id: n1\n    secret: ${kept}\n    ${nested}: x\n${pasted}: oops\n`)
  const problems = await started.gw.reload('test')
  t.equal(problems.length, 2, 'the reload is refused')
  await waitFor(() => started.log.lines.filter((l) => l.msg === 'reload refused; still serving the previous config').length === 2)
  const everything = [...problems.map(formatProblem), ...started.log.text].join('\n')
  for (const s of [kept, pasted, nested]) t.notOk(everything.includes(s), 'no secret bytes in problems or log lines')
})

// Many replicas (issue "Many replicas"): three `popgate serve` processes share
// one test-owned redis-server and one secrets file; the client spreads its
// requests round-robin. Replay protection holds across all of them, a dead
// Redis means 503 and not-ready (never an unchecked proof), traffic comes
// back on its own, and the nonce key is rotated under load with zero failed
// requests. Every response to every proof is recorded: at the end no proof
// was accepted twice anywhere.

import t from 'tap'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { randomBytes } from 'node:crypto'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startUpstream, rawRequest, waitFor, DEFAULT_ACL, type RawResponse } from '../helpers/harness.js'
import { startKeyHost, keysConfig } from '../helpers/identity.js'
import { redisServerBinary, startRedisServer, NO_REDIS } from '../helpers/redis-server.js'
import { startReplicas, stopReplicas, replaceFile, type Replica } from '../helpers/replicas.js'
import { signDomainPopProof } from '../../src/client/proof.js'
import { createNonceIssuer } from '../../src/secrets/nonce.js'
import type { ClientKey } from '../../src/client/keys.js'

const ORIGIN = 'https://gw.test'
const NONCE_TTL_MS = 3_000
t.setTimeout(90_000)

const secret = (id: string) => ({ id, key: randomBytes(32) })
const secretsYaml = (list: readonly { id: string; key: Buffer }[]) =>
  `nonce:\n${list.map((s) => `  - { id: ${s.id}, secret: ${s.key.toString('base64url')} }`).join('\n')}\n`
/** The key id a nonce was signed with (PROTOCOL.md §1: version, kid length, kid, ...). */
const nonceKid = (nonce: string) => { const raw = Buffer.from(nonce, 'base64url'); return raw.subarray(2, 2 + raw[1]!).toString('latin1') }

if (!redisServerBinary()) {
  console.error(`# ${NO_REDIS}`)
  t.test('multi-replica tests', { skip: NO_REDIS }, async () => {})
} else {
  await main()
}

async function main(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'popgate-replicas-'))
  const staging = join(dir, 'staging')
  await mkdir(staging)
  const [redis, kh, up] = await Promise.all([startRedisServer(), startKeyHost(), startUpstream()])
  const n1 = secret('n1'), n2 = secret('n2')
  const secretsFile = join(dir, 'secrets.yaml')
  await writeFile(join(dir, 'acl.yaml'), DEFAULT_ACL)
  await writeFile(secretsFile, secretsYaml([n1]), { mode: 0o600 })
  await writeFile(join(dir, 'gateway.yaml'), [
    'listen: 127.0.0.1:0',
    `publicOrigin: ${ORIGIN}`,
    `upstream: ${up.url}`,
    'acl: ./acl.yaml',
    'admin: { listen: 127.0.0.1:0 }',
    'secrets: { file: ./secrets.yaml }',
    `replay: { store: redis, url: "${redis.url}", timeout: 250ms }`,
    `nonce: { ttl: ${NONCE_TTL_MS}ms }`,
    'log: { level: info, access: false }',
    keysConfig(),
    '',
  ].join('\n'))
  const replicas = await startReplicas(['A', 'B', 'C'], join(dir, 'gateway.yaml'))
  t.teardown(async () => {
    await stopReplicas(replicas)
    await Promise.all([redis.close(), kh.close(), up.close()])
    await rm(dir, { recursive: true, force: true })
  })
  const [A, B, C] = replicas as [Replica, Replica, Replica]
  const { key, keyUrl } = await kh.publish('alice.test')

  // Every proof sent, and every status it got, over the whole run.
  const outcomes = new Map<string, number[]>()
  const nonceFrom = async (r: Replica) => (await rawRequest(r.url, { path: '/foo' })).headers['domainpop-nonce'] as string
  const sign = (nonce: string, k: ClientKey = key) => signDomainPopProof(k, { identity: 'alice.test', keyUrl, audience: ORIGIN, method: 'GET', path: '/foo', nonce })
  const send = async (r: Replica, proof: string): Promise<RawResponse> => {
    const res = await rawRequest(r.url, { path: '/foo', headers: [['Authorization', `DomainPoP ${proof}`]] })
    outcomes.set(proof, [...(outcomes.get(proof) ?? []), res.status])
    return res
  }
  const code = (res: RawResponse) => (res.body.startsWith('{') ? (JSON.parse(res.body) as { code?: string }).code : undefined)
  const readyz = async (r: Replica) => (await rawRequest(r.adminUrl, { path: '/readyz' })).status

  t.test('a nonce from replica A is accepted at B (shared secrets)', async (t) => {
    const res = await send(B, sign(await nonceFrom(A)))
    t.equal(res.status, 200, res.body)
  })

  t.test('a proof accepted at A and replayed at C (and B) is refused', async (t) => {
    const proof = sign(await nonceFrom(B))
    t.equal((await send(A, proof)).status, 200)
    for (const r of [C, B]) {
      const again = await send(r, proof)
      t.equal(again.status, 401, `at ${r.name}`)
      t.equal(code(again), 'proof_replayed')
    }
  })

  t.test('30 copies of one proof raced across the three replicas: accepted exactly once', async (t) => {
    for (let round = 0; round < 3; round++) {
      const proof = sign(await nonceFrom(replicas[round]!))
      const results = await Promise.all(Array.from({ length: 30 }, (_, i) => send(replicas[i % 3]!, proof)))
      t.equal(results.filter((r) => r.status === 200).length, 1, `round ${round}: one 200`)
      t.equal(results.filter((r) => r.status === 401 && code(r) === 'proof_replayed').length, 29, `round ${round}: 29 proof_replayed`)
    }
  })

  t.test('Redis stopped: 503 with Retry-After at every replica, /readyz false; restarted: traffic recovers on its own', async (t) => {
    const before = sign(await nonceFrom(A))
    t.equal((await send(B, before)).status, 200, 'healthy before the outage')
    await redis.stop()
    for (const r of replicas) await waitFor(async () => (await readyz(r)) === 503, 10_000)
    t.pass('/readyz is 503 at A, B and C')
    for (const r of replicas) {
      const t0 = Date.now()
      const res = await send(r, sign(await nonceFrom(r)))
      t.equal(res.status, 503, `fresh proof at ${r.name}`)
      t.equal(code(res), 'replay_store_unavailable')
      t.equal(res.headers['retry-after'], '1')
      t.ok(Date.now() - t0 < 2_000, `answered without waiting (${Date.now() - t0} ms)`)
      t.equal((await send(r, before)).status, 503, `an accepted proof replayed at ${r.name} during the outage: 503, not 200`)
    }
    await redis.start()
    for (const r of replicas) {
      await waitFor(async () => (await send(r, sign(await nonceFrom(r)))).status === 200, 15_000, 100)
      t.equal(await readyz(r), 200, `${r.name} ready again`)
    }
    // Round-robin traffic after recovery: all accepted.
    const statuses: number[] = []
    for (let i = 0; i < 12; i++) statuses.push((await send(replicas[i % 3]!, sign(await nonceFrom(replicas[(i + 1) % 3]!)))).status)
    t.same(new Set(statuses), new Set([200]))
  })

  t.test('rotating the nonce key while traffic flows: zero failed requests', async (t) => {
    let stop = false
    const failures: string[] = []
    let sent = 0
    // Four clients, each keeping the newest nonce it was given, each request to the next replica.
    const worker = async (w: number) => {
      let nonce = await nonceFrom(replicas[w % 3]!)
      for (let i = w; !stop; i++) {
        const r = replicas[i % 3]!
        const res = await send(r, sign(nonce))
        sent++
        if (res.status !== 200) failures.push(`${r.name}: ${res.status} ${code(res)}`)
        const fresh = res.headers['domainpop-nonce']
        if (typeof fresh === 'string') nonce = fresh
      }
    }
    const traffic = Promise.all([0, 1, 2, 3].map(worker))
    const probe = async (r: Replica, nonce: string) => (await send(r, sign(nonce))).status
    const reloadAll = () => { for (const r of replicas) r.child.kill('SIGHUP') }
    const madeBy = (s: { id: string; key: Buffer }) => createNonceIssuer([s], { ttlMs: NONCE_TTL_MS, clockSkewMs: 5_000 })

    // 1. Add the new key at the end: every replica accepts nonces signed with it, none signs with it yet.
    await replaceFile(secretsFile, secretsYaml([n1, n2]), staging)
    reloadAll()
    for (const r of replicas) await waitFor(async () => (await probe(r, madeBy(n2).issue(Date.now()))) === 200, 10_000, 50)
    // 2. Move it to the front: now it signs.
    await replaceFile(secretsFile, secretsYaml([n2, n1]), staging)
    reloadAll()
    for (const r of replicas) await waitFor(async () => nonceKid(await nonceFrom(r)) === 'n2', 10_000, 50)
    // 3. Wait one nonce lifetime (+1 s: issue times are whole seconds): no live nonce is signed with n1 any more.
    await new Promise((r) => setTimeout(r, NONCE_TTL_MS + 1_000))
    // 4. Drop the old key.
    await replaceFile(secretsFile, secretsYaml([n2]), staging)
    reloadAll()
    for (const r of replicas) await waitFor(async () => (await probe(r, madeBy(n1).issue(Date.now()))) === 401, 10_000, 50)
    const sentAfter = sent
    await waitFor(() => sent >= sentAfter + 30, 10_000)
    stop = true
    await traffic
    t.same(failures, [], 'no request failed during the rotation')
    t.ok(sent > 100, `${sent} requests during the rotation`)
    for (const r of replicas) t.equal(nonceKid(await nonceFrom(r)), 'n2', `${r.name} signs with the new key`)
  })

  t.test('across the whole run, no proof was accepted twice', async (t) => {
    const twice = [...outcomes.values()].filter((s) => s.filter((x) => x === 200).length > 1)
    t.equal(twice.length, 0, 'no replay accepted')
    const accepted = [...outcomes.values()].reduce((n, s) => n + s.filter((x) => x === 200).length, 0)
    t.equal(up.seen.length, accepted, 'the upstream saw exactly the accepted proofs')
    t.ok(outcomes.size > 100, `${outcomes.size} distinct proofs sent`)
  })
}

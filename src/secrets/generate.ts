// Fresh secrets in the two forms secrets/load.ts reads: a secrets.yaml, or
// the POPGATE_*_SECRETS variables ("id:base64url,..."). One 32-byte random
// key per list, with an id that says when it was made, so a rotated-in key
// (prepended to its list) is easy to tell from the one it replaces.

import { randomBytes } from 'node:crypto'

const LISTS = [
  { kind: 'nonce', prefix: 'n', env: 'POPGATE_NONCE_SECRETS', use: 'signs server nonces (every replica must share it)' },
  { kind: 'tickets', prefix: 't', env: 'POPGATE_TICKET_SECRETS', use: 'session tickets' },
  { kind: 'cookies', prefix: 'c', env: 'POPGATE_COOKIE_SECRETS', use: 'session cookies' },
] as const

export const SECRET_BYTES = 32

export interface GeneratedSecret { readonly kind: 'nonce' | 'tickets' | 'cookies'; readonly id: string; readonly secret: string }

/** One new secret per list; ids look like n-20260514 (≤ 16 characters of [A-Za-z0-9_-]). */
export function generateSecrets(now: Date = new Date(), random: (n: number) => Buffer = randomBytes): GeneratedSecret[] {
  const day = now.toISOString().slice(0, 10).replaceAll('-', '')
  return LISTS.map((l) => ({ kind: l.kind, id: `${l.prefix}-${day}`, secret: random(SECRET_BYTES).toString('base64url') }))
}

export function formatSecretsYaml(secrets: readonly GeneratedSecret[], now: Date = new Date()): string {
  const lines = [
    `# popgate secrets, generated ${now.toISOString()} by \`popgate secrets generate\`.`,
    '# Keep this file private (mode 0600) and identical on every replica.',
    '# Rotate: put a new entry FIRST in a list (the first signs, all verify), roll it',
    '# out everywhere, wait one nonce.ttl (tickets: one sessions.tickets.ttl), then',
    '# delete the old entry. Reference: docs/configuration.md, "Secrets".',
  ]
  for (const l of LISTS) {
    lines.push(`${l.kind}:  # ${l.use}`)
    for (const s of secrets.filter((x) => x.kind === l.kind)) lines.push(`  - id: ${s.id}`, `    secret: ${s.secret}`)
  }
  return lines.join('\n') + '\n'
}

export function formatSecretsEnv(secrets: readonly GeneratedSecret[]): string {
  return LISTS.map((l) => `${l.env}=${secrets.filter((s) => s.kind === l.kind).map((s) => `${s.id}:${s.secret}`).join(',')}`).join('\n') + '\n'
}

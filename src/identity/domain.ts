// The one strict parser for identities (PROTOCOL.md "Parties"). Used by the
// ACL, `iss`, key URLs and the CLI. It never "cleans up" its input: no
// trimming, no lowercasing, no `@` splitting, no trailing-dot removal. What it
// rejects is rejected.

import { domainToASCII, domainToUnicode } from 'node:url'

/** A validated identity: a lowercase LDH DNS name of at least two labels. */
export type Identity = string & { readonly __identity: unique symbol }

const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/
const MAX_NAME_OCTETS = 253

/** Returns why `input` is not an identity, or undefined when it is one. */
export function identityProblem(input: unknown): string | undefined {
  if (typeof input !== 'string') return 'must be a string'
  if (input.length === 0) return 'must not be empty'
  if (input.length > MAX_NAME_OCTETS) return `longer than ${MAX_NAME_OCTETS} octets`
  // Only lowercase LDH and dots: this rejects upper case, spaces, '@', ':',
  // '/', '[', '%', '_' and every non-ASCII character (U-labels must be punycode).
  if (!/^[a-z0-9.-]+$/.test(input)) {
    if (/[A-Z]/.test(input)) return 'must be lowercase'
    if (/[^\x21-\x7e]/.test(input)) return 'must be ASCII without spaces (use punycode A-labels)'
    return 'may contain only a-z, 0-9, "-" and "."'
  }
  const labels = input.split('.')
  if (labels.length < 2) return 'must have at least two labels'
  for (const label of labels) {
    if (label.length === 0) return input.endsWith('.') ? 'must not end with a dot' : 'has an empty label'
    if (label.length > 63) return 'has a label longer than 63 octets'
    if (!LDH_LABEL.test(label)) return `label "${label}" must start and end with a letter or digit`
    if (label.length >= 4 && label[2] === '-' && label[3] === '-') {
      if (!label.startsWith('xn--')) return `label "${label}" uses a reserved "??--" prefix`
      // An A-label must be valid punycode that maps back to itself (RFC 5890 §2.3.2.1).
      const unicode = domainToUnicode(label)
      if (unicode === '' || unicode === label || domainToASCII(unicode) !== label) return `label "${label}" is not a valid A-label`
    }
  }
  // WHATWG URL "ends in a number": a last label of digits, or 0x + hex, makes
  // the URL parser read the host as IPv4 (127.0.0.1, 0x7f.0x1, 127.0.0.0x1). TLDs never look like that.
  if (/^(?:[0-9]+|0x[0-9a-f]*)$/.test(labels[labels.length - 1]!)) return 'must not be an IP address'
  return undefined
}

export function isIdentity(input: unknown): input is Identity {
  return identityProblem(input) === undefined
}

/**
 * An ACL domain pattern, compiled: `*` (any authenticated), `*.suffix` (strict
 * subdomains), or exact. `group` names the ACL group a rule took it from
 * (`read: [group:partners]`), for explanations only.
 */
export type DomainPattern =
  | { readonly kind: 'any'; readonly source: string; readonly group?: string }
  | { readonly kind: 'suffix'; readonly source: string; readonly suffix: string; readonly group?: string } // suffix starts with '.'
  | { readonly kind: 'exact'; readonly source: string; readonly identity: Identity; readonly group?: string }

export function parseDomainPattern(input: unknown): DomainPattern | string {
  if (input === '*') return { kind: 'any', source: '*' }
  if (typeof input === 'string' && input.startsWith('*.')) {
    const rest = input.slice(2)
    const why = identityProblem(rest)
    if (why) return `"*." must be followed by a domain that ${why.replace(/^must /, 'must ')}`
    return { kind: 'suffix', source: input, suffix: '.' + rest }
  }
  if (typeof input === 'string' && input.includes('*')) return '"*" may only be the whole pattern or a leading "*."'
  const why = identityProblem(input)
  if (why) return why
  return { kind: 'exact', source: input as string, identity: input as Identity }
}

export function matchesDomain(pattern: DomainPattern, identity: Identity): boolean {
  switch (pattern.kind) {
    case 'any': return true
    case 'exact': return pattern.identity === identity
    case 'suffix': return identity.length > pattern.suffix.length && identity.endsWith(pattern.suffix)
  }
}

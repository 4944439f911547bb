// RFC 9530 Content-Digest: a Dictionary of algorithm → Byte Sequence digest
// of the message content. Pure. sha-256 and sha-512 (§5, the two "Active"
// algorithms); the deprecated ones (md5, sha, unixsum, …) are ignored, as
// §2 lets a recipient ignore what it does not support.
//
// Checking: every supported member must match the body, and at least one
// supported member must be present; anything else is content_digest_mismatch
// (or signature_malformed when the field is not a Dictionary of Byte
// Sequences).

import { createHash, timingSafeEqual } from 'node:crypto'
import { GatewayError } from '../errors.js'
import { isInnerList, parseField } from './http-signature/structured.js'

export type DigestAlgorithm = 'sha-256' | 'sha-512'

const HASHES: Readonly<Record<DigestAlgorithm, string>> = { 'sha-256': 'sha256', 'sha-512': 'sha512' }

export const digestOf = (alg: DigestAlgorithm, body: Uint8Array): Buffer => createHash(HASHES[alg]).update(body).digest()

/** The Content-Digest field value for `body` (sha-256 unless told). */
export function contentDigestHeader(body: Uint8Array, algs: readonly DigestAlgorithm[] = ['sha-256']): string {
  // RFC 9651 §4.1.8: a Byte Sequence is its base64 between colons.
  return algs.map((a) => `${a}=:${digestOf(a, body).toString('base64')}:`).join(', ')
}

/** Throws unless `fieldValue` (the combined Content-Digest) holds a supported digest equal to the body's. */
export function checkContentDigest(fieldValue: string, body: Uint8Array): void {
  const dict = parseField(fieldValue, 'dictionary', 'signature_malformed', 'Content-Digest')
  let checked = 0
  for (const [alg, member] of dict) {
    if (alg !== 'sha-256' && alg !== 'sha-512') continue
    if (isInnerList(member) || !(member[0] instanceof ArrayBuffer)) throw new GatewayError('signature_malformed', 'a Content-Digest member must be a byte sequence')
    const want = Buffer.from(member[0])
    const have = digestOf(alg, body)
    if (want.length !== have.length || !timingSafeEqual(want, have)) throw new GatewayError('content_digest_mismatch', `the body does not match its Content-Digest (${alg})`)
    checked++
  }
  if (checked === 0) throw new GatewayError('content_digest_mismatch', 'Content-Digest holds no sha-256 or sha-512 digest')
}

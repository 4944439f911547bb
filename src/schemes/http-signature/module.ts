// The HTTP Message Signatures folder's module (schemes/module.ts): its
// `httpSignatures:` section, the agents' signatures-directory cache on the
// shared safe fetcher (kept across reloads while the fetch policy holds),
// and the scheme.

import type { Built, SchemeModule, Shared } from '../module.js'
import { createSignatureDirectoryReader, type SignatureDirectoryReader } from '../../keys/signature-directory.js'
import { WEB_BOT_AUTH_TAG } from '../../proofs/http-signature/policy.js'
import { readHttpSignatures, type HttpSignaturesConfig } from './config.js'
import { createHttpSignatureScheme, HTTP_SIGNATURE_SCHEME } from './index.js'

interface HttpSignatureBuilt extends Built { readonly directory?: SignatureDirectoryReader }

export const httpSignatureModule: SchemeModule<HttpSignaturesConfig> = {
  name: HTTP_SIGNATURE_SCHEME,
  section: 'httpSignatures',
  // A signature without a nonce can be replayed until it expires: never in a log line.
  credentialFields: ['signature', 'signature-input'],
  read: readHttpSignatures,

  async build(cfg, shared, prev) {
    if (!cfg.enabled) return { schemes: [] }
    const old = (prev?.built as HttpSignatureBuilt | undefined)?.directory
    const directory = old !== undefined && prev!.sameFetchPolicy ? old : directoryOn(shared)
    const origin = new URL(shared.publicOrigin)
    const scheme = createHttpSignatureScheme({
      settings: {
        authority: origin.host,
        clockSkewSec: Math.ceil((cfg.clockSkewMs ?? shared.proof.clockSkewMs) / 1000),
        maxValiditySec: Math.floor(cfg.maxValidityMs / 1000),
        tag: cfg.requireTag ? WEB_BOT_AUTH_TAG : undefined,
        algorithms: new Set(cfg.algorithms),
        allowHttp: shared.config.keys.allowHttp,
      },
      publicScheme: origin.protocol.slice(0, -1),
      maxBodyBytes: cfg.maxBodyBytes,
      directory,
      keyTrust: shared.keyTrust,
      replay: shared.replay(HTTP_SIGNATURE_SCHEME),
    })
    const built: HttpSignatureBuilt = { schemes: [scheme], resources: [directory], directory }
    return built
  },
}

function directoryOn(shared: Shared): SignatureDirectoryReader {
  return createSignatureDirectoryReader(shared.config.keys, { fetch: shared.outbound.fetch, ...shared.outbound.hooks('signatures directory') })
}

// popgate/client: what an identity domain's services use to call a gateway.
export { createDomainPopFetch, nonceFromResponse, domainPopChallenge, type DomainPopFetch, type DomainPopFetchOptions, type DomainIssuerFetchOptions } from './fetch.js'
export { signDomainPopProof, type ProofInput } from './proof.js'
export { generateClientKey, loadClientKey, saveClientKey, clientKeyFrom, publicJwkOf, type ClientKey, type ClientAlgorithm } from './keys.js'
export { parseChallenges, type Challenge } from '../http/auth-header.js'
export { createDpopFetch, signDpopProof, type DpopFetch, type DpopFetchOptions, type DpopProofInput } from './dpop.js'
export { createChannelBinding, type ChannelBinding, type ChannelBindingOptions } from './channel-binding.js'
export { createHttpSignatureFetch, type HttpSignatureFetch, type HttpSignatureFetchOptions } from './http-signature.js'
export {
  createIssuerFetch, createIssuerSymmetricFetch, requestIssuerToken, requestSymmetricIssuerToken, IssuerError,
  type IssuerFetchOptions, type IssuerSymmetricFetchOptions, type IssuerTokenRequest, type IssuedToken, type IssuedSymmetricToken,
} from './issuer.js'

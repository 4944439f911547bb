export const USAGE = `popgate — DomainPoP authentication gateway

  popgate serve --config FILE                       the gateway
  popgate check --config FILE                       validate config + ACL, print every problem, exit 0 or 78
  popgate acl explain --acl FILE --as DOMAIN METHOD PATH
  popgate acl lint --acl FILE
  popgate keygen --identity DOMAIN --out DIR [--alg ES256|Ed25519]
  popgate keyhost --identity DOMAIN --listen ADDR --store DIR|memory [--token-file F] [--cert F --key F] [--public-origin URL]
  popgate fetch URL --identity DOMAIN --key FILE --key-url URL [-X M] [-H H] [-d BODY] [-i]
  popgate demo                                      every party on loopback, for a first look
`

export class UsageError extends Error {}

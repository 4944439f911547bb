// What `popgate --help` and `popgate <command> --help` print, the exit codes
// every command shares, and the two error types main.ts turns into one line
// on stderr.

/** sysexits.h-style exit codes, shared by every command (printed in every help text). */
export const EXIT = Object.freeze({
  ok: 0,
  /** A DENY, a non-2xx answer, lint findings. */
  denied: 1,
  usage: 2,
  /** EX_NOINPUT: an input file (key, token, CA, certificate) cannot be read. */
  noInput: 66,
  /** EX_UNAVAILABLE: a server could not be reached (connection refused, TLS failure, timeout). */
  unavailable: 69,
  /** EX_SOFTWARE: a bug in popgate. */
  software: 70,
  /** EX_OSERR: cannot listen (address in use, permission denied). */
  cannotListen: 71,
  /** EX_CANTCREAT: an output file exists (without --force) or cannot be written. */
  cannotCreate: 73,
  /** EX_CONFIG: the config, ACL or secrets file has problems. */
  config: 78,
})

const EXIT_CODES = `Exit codes:
  0   ok                                   66  an input file cannot be read
  1   denied, non-2xx answer, findings     69  a server could not be reached
  2   usage error                          71  cannot listen (address in use)
  70  internal error (please report it)    73  output file exists or cannot be written
  78  configuration problems (every one is printed as file:line:col)
`

export const USAGE = `popgate — DomainPoP authentication gateway

  popgate serve [--config FILE]                     the gateway (FILE defaults to $POPGATE_CONFIG)
  popgate check [--config FILE] [--connect]         run serve's validation without listening; exit 0 or 78
  popgate acl explain --acl FILE [--as DOMAIN] METHOD PATH
  popgate acl lint --acl FILE
  popgate acl test --acl FILE [--format table|tap] CASES
  popgate acl diff OLD_ACL NEW_ACL [--sample ACCESS_LOG.jsonl]
  popgate secrets generate [--out FILE [--force]] [--env]
  popgate keygen --identity DOMAIN --out DIR [--alg ES256|ES384|Ed25519|PS256] [--keyhost URL]
  popgate keyhost --identity DOMAIN [--listen HOST:PORT] [--store DIR|memory] [--token-file F] [--cert F --key F] [--public-origin URL] [--signatures-directory] [--issuer]
  popgate keyhost publish --url URL --token-file F --jwk FILE [--cacert FILE]
  popgate fetch URL --identity DOMAIN --key FILE --key-url URL [-X M] [-H H] [-d BODY] [-i] [--session ticket] [--audience URL] [--cacert FILE] [--cert FILE [--cert-key FILE]] [--channel-binding]
  popgate fetch URL --dpop-token TOKEN|@FILE --key FILE [same options]
  popgate fetch URL --http-signature --key FILE --agent URL [same options]
  popgate fetch URL --issuer ORIGIN --issuer-credential VALUE|@FILE (--symmetric | --key FILE) [same options]
  popgate sessions revoke IDENTITY [--admin URL]    end every ticket and cookie of IDENTITY
  popgate keys list [IDENTITY] [--admin URL] [--json]   known keys per identity: state, age, where from
  popgate keys approve IDENTITY THUMBPRINT [--admin URL]   accept a key held by newKeys: hold
  popgate demo [--port N]                           every party on loopback, for a first look
  popgate --version

  popgate COMMAND --help                            options and exit codes of one command

${EXIT_CODES}`

const CONFIG_HELP = `
  -c, --config FILE   the gateway config; default: $POPGATE_CONFIG, else config/gateway.yaml
                      (relative to the working directory). Environment overrides
                      (POPGATE_LISTEN, POPGATE_SECRETS_FILE, ...) apply as in docs/configuration.md.`

export const HELP: Readonly<Record<string, string>> = {
  serve: `popgate serve [--config FILE]

Runs the gateway. Reloads config, ACL, secrets and TLS files when one of them
changes (only those files), or on SIGHUP; an invalid change is logged and the
previous state keeps serving. SIGTERM/SIGINT close gracefully.
${CONFIG_HELP}
`,
  check: `popgate check [--config FILE] [--connect]

Runs exactly the validation serve runs at start (config, ACL, secrets, TLS
files), without listening. Prints every problem, or "FILE: ok" and a line
about the replay store: a Redis store is not connected to unless --connect
is given.
${CONFIG_HELP}
  --connect           also connect to the replay store and write one throw-away
                      key, as a proof would (exit 69 when it does not answer
                      within replay.timeout)
`,
  acl: `popgate acl explain --acl FILE [--as DOMAIN] METHOD PATH
popgate acl lint --acl FILE
popgate acl test --acl FILE [--format table|tap] CASES
popgate acl diff OLD_ACL NEW_ACL [--sample ACCESS_LOG.jsonl]

explain: which rule decides METHOD PATH for DOMAIN (anonymous without --as),
and which earlier rules were passed over; exit 0 allow, 1 deny.
lint: shadowed rules and rules that can never match; exit 0 clean, 1 findings
(rules in report mode are listed as notes and do not fail lint).
test: checks each case of CASES (identity, method, path, expected outcome)
against the ACL; prints a table, or TAP 13 with --format tap; exit 0 all pass,
1 any fails (each failing case named).
diff: rules added, removed and changed (by id); with --sample, the access
lines' requests replayed against both ACLs: how many would flip, and the
first few; exit 0 none flip, 1 some do.
`,
  secrets: `popgate secrets generate [--out FILE [--force]] [--env]

Prints a fresh secrets file (nonce, tickets, cookies; 32 random bytes each)
in the format secrets.file reads (docs/configuration.md, "Secrets").
  --out FILE   write it to FILE with mode 0600 instead of printing it
  --force      overwrite FILE if it exists (refused otherwise, exit 73)
  --env        print POPGATE_NONCE_SECRETS=... lines instead of YAML
`,
  keygen: `popgate keygen --identity DOMAIN --out DIR [--alg ES256|ES384|Ed25519|PS256] [--keyhost URL]

Writes DIR/private.jwk.json (mode 0600) and DIR/public.jwk.json, and prints the
command that publishes the public key on the identity's key host.
  --keyhost URL   where that key host is reached (default https://DOMAIN)
`,
  keyhost: `popgate keyhost --identity DOMAIN [--listen HOST:PORT] [--store DIR|memory] [--token-file FILE]
                [--cert FILE --key FILE] [--public-origin URL] [--signatures-directory] [--issuer]
popgate keyhost publish --url URL --token-file FILE --jwk FILE [--cacert FILE]

The reference key host of an identity domain (docs/keyhost.md).
  --listen         default 127.0.0.1:8443
  --store          a folder (one JSON file per key, survives restarts) or memory (default)
  --token-file     publishing needs "Authorization: Bearer <the file's content>";
                   without it publishing is disabled
  --cert, --key    serve HTTPS (both or neither)
  --public-origin  the origin gateways use to reach this host, used in key URLs;
                   default: what this process serves, e.g. http://DOMAIN:8443
  --signatures-directory  also serve the published keys at
                   /.well-known/http-message-signatures-directory (Web Bot Auth agents)
  --issuer         also be the domain's reference issuer: RFC 8414 metadata, a JWKS and a
                   token endpoint that binds a caller's public key (cnf.jwk) for DPoP;
                   needs https and --token-file (the same token authenticates callers)
publish: POSTs a public JWK to the key host at URL; prints the key URL.
`,
  fetch: `popgate fetch URL --identity DOMAIN --key FILE --key-url URL [options]
popgate fetch URL --dpop-token TOKEN|@FILE --key FILE [options]
popgate fetch URL --http-signature --key FILE --agent URL [options]
popgate fetch URL --issuer ORIGIN --issuer-credential VALUE|@FILE (--symmetric | --key FILE) [options]

A curl-like client that answers DomainPoP challenges with signed proofs, or
(--dpop-token) presents a DPoP-bound access token from the identity domain's
authorization server with a DPoP proof per request, signed with --key (the
private JWK the token's cnf.jkt names), answering use_dpop_nonce once.
The response body goes to stdout; a non-2xx answer also prints one line on
stderr (status, problem code and detail) and exits 1.
  --identity DOMAIN     DomainPoP: the identity the proofs claim (their iss)
  --key FILE            the private JWK that signs the proofs (keygen's private.jwk.json)
  --key-url URL         DomainPoP: where the identity publishes that key's public half
                        (what keyhost publish printed; the proofs' jku)
  --dpop-token T        the access token, or @FILE to read it from a file
  --http-signature      sign each request with an RFC 9421 HTTP Message Signature
                        (Web Bot Auth profile) with --key, naming --agent URL
                        (https://DOMAIN; its signatures directory lists the key)
  --issuer ORIGIN       get a token from the identity domain's issuer first (popgate keyhost
                        --issuer): with --symmetric a cnf.jwe token and HS256 proofs
                        (X-PoP-Auth-Method: issuer-symmetric), else a cnf.jwk token binding
                        --key, presented with DPoP proofs
  --issuer-credential C what the issuer's token endpoint takes (its --token-file), or @FILE
  -X, --request M       method (default GET, or POST with -d)
  -H, --header "N: V"   a request header (repeatable)
  -d, --data BODY       a request body
  -i, --include         print the status line and headers
  --session ticket|none ticket: the proof carries an ephemeral ECDH key (epk) asking for a
                        session ticket (PROTOCOL.md §4); stderr says whether one was granted,
                        -i shows its DomainPoP-Session field. Default none
  --audience URL        the gateway's publicOrigin when it differs from URL's origin
  --cacert FILE         trust this PEM CA for an https URL (or set NODE_EXTRA_CA_CERTS)
  --session none        every request carries its own proof (the only choice in this version)
  --cert FILE           present this PEM client certificate (its key may be in the
                        same file, like curl); for gateways with tls.clientCertificates
  --cert-key FILE       the client certificate's PEM private key (--key is the proof key)
  --channel-binding     bind every DomainPoP proof to this TLS 1.3 connection (cb,
                        RFC 9266): https only, and only to a gateway that terminates
                        TLS itself
`,
  sessions: `popgate sessions revoke IDENTITY [--admin URL]

Ends every session ticket and cookie of IDENTITY minted before now, through
a gateway's admin listener (POST /sessions/revoke/IDENTITY). With
replay.store: redis every replica refuses them at once; with the memory
store only the replica asked. Proofs still work: the identity's next proof
mints a fresh ticket. For a revocation kept in version control, use the
ACL's revoke: map instead (docs/acl.md).
  --admin URL   the admin listener (default http://127.0.0.1:9090)
`,
  keys: `popgate keys list [IDENTITY] [--admin URL] [--json]
popgate keys approve IDENTITY THUMBPRINT [--admin URL]

The key records (docs/security.md, "Key trust"), through a gateway's admin
listener. list: every key accepted, held or approved per identity (and the
ACL's pinned keys not seen yet), with its state, age, algorithm, scheme,
last use and the document it came from. approve: accepts a key that
newKeys: hold refused (401 key_held); IDENTITY must be in the ACL's
identities: section, THUMBPRINT its RFC 7638 thumbprint (as list shows it).
With replay.store: redis every replica shares the records; with the memory
store only the replica asked.
  --admin URL   the admin listener (default http://127.0.0.1:9090)
  --json        list: the records as JSON
`,
  demo: `popgate demo [--port N]

A gateway, a demo upstream and a key host for alice.test, all on 127.0.0.1,
with files in a private temporary folder that is removed on exit.
  --port N   the gateway's port (default 8080, or $POPGATE_DEMO_PORT; 0 picks one)
`,
}

export function helpFor(cmd: string): string {
  return `${HELP[cmd] ?? USAGE}\n${EXIT_CODES}`
}

/** Bad arguments: one line, a pointer to --help, exit 2. */
export class UsageError extends Error {}

/** An expected failure: one line on stderr that says what to do, and its exit code. */
export class CliError extends Error {
  constructor(message: string, readonly exitCode: number) { super(message) }
}

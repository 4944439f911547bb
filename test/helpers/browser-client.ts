// The browser client (dist/browser/popgate.js) loaded into Node for tests:
// it is built by its own tsconfig (lib dom), so the Node test build cannot
// import its source; it is loaded at run time, typed here by what tests use.
// Node 20's globalThis.crypto is WebCrypto; keys go in a memory store.

export interface BrowserClientLike {
  readonly kid: string
  readonly alg: string
  readonly keyUrl: string
  readonly keyCreated: boolean
  fetch(input: string | URL, init?: RequestInit): Promise<Response>
  forget(): Promise<void>
}

export interface BrowserEvent { readonly type: string; readonly [k: string]: unknown }

export interface BrowserModule {
  createBrowserClient(opts: {
    identity: string
    publishKey: (jwk: Record<string, string>) => Promise<string>
    algorithm?: 'ES256' | 'Ed25519'
    session?: 'ticket' | 'cookie' | 'none'
    audience?: string
    store?: unknown
    fetch?: typeof fetch
    onEvent?: (e: BrowserEvent) => void
    now?: () => number
  }): Promise<BrowserClientLike>
  memoryKeyStore(): unknown
  thumbprint(jwk: Record<string, string>): Promise<string>
  parseChallenges(value: string): { scheme: string; params: Record<string, string> }[]
}

/** dist/browser/popgate.js, relative to this compiled file (dist/test/helpers/). */
export const BROWSER_MODULE_URL = new URL('../../browser/popgate.js', import.meta.url)

export const loadBrowserModule = async (): Promise<BrowserModule> => (await import(BROWSER_MODULE_URL.href)) as BrowserModule

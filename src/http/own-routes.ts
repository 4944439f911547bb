// Stage: the gateway's own public documents (its assertion JWKS, RFC 9728
// protected-resource metadata) and its own small actions (the session
// cookie's logout), answered by the gateway itself before the ACL is
// consulted. Exact paths; GET and HEAD unless the route lists its methods;
// any other method on such a path goes through the ACL like every other
// request. Built once per config; empty unless a feature adds a route.

export interface OwnRoute {
  readonly contentType: string
  /** The document; computed when the state is built, so serving it costs nothing. */
  readonly body: string
  /** Cache-Control for the answer. */
  readonly cacheControl: string
  /** The methods it answers (default: GET and HEAD). */
  readonly methods?: ReadonlySet<string>
  /** The answer's status (default 200; 204 sends no body and no content fields, RFC 9110 §15.3.5). */
  readonly status?: number
  /** More response fields (flat name, value, … list), e.g. a Set-Cookie. */
  readonly headers?: readonly string[]
  /** A check before answering (the logout's CSRF guard): throws a GatewayError to refuse. `field` reads a request field by lowercase name. */
  guard?(method: string, field: (name: string) => string | undefined): void
}

export type OwnRoutes = ReadonlyMap<string, OwnRoute>

export const NO_OWN_ROUTES: OwnRoutes = new Map()

/** The route for this request, if the gateway answers it itself. */
export function ownRoute(routes: OwnRoutes, method: string, path: string): OwnRoute | undefined {
  if (routes.size === 0) return undefined
  const r = routes.get(path)
  if (r === undefined) return undefined
  return (r.methods === undefined ? method === 'GET' || method === 'HEAD' : r.methods.has(method)) ? r : undefined
}

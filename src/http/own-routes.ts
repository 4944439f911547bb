// Stage: the gateway's own public documents (its assertion JWKS, RFC 9728
// protected-resource metadata), answered by the gateway itself before the
// ACL is consulted. Exact paths, GET and HEAD only; any other method on such
// a path goes through the ACL like every other request. Built once per
// config; empty unless a feature adds a route.

export interface OwnRoute {
  readonly contentType: string
  /** The document; computed when the state is built, so serving it costs nothing. */
  readonly body: string
  /** Cache-Control for the answer. */
  readonly cacheControl: string
}

export type OwnRoutes = ReadonlyMap<string, OwnRoute>

export const NO_OWN_ROUTES: OwnRoutes = new Map()

/** The route for this request, if the gateway answers it itself. */
export function ownRoute(routes: OwnRoutes, method: string, path: string): OwnRoute | undefined {
  if (routes.size === 0 || (method !== 'GET' && method !== 'HEAD')) return undefined
  return routes.get(path)
}

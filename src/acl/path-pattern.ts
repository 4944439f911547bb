// ACL path patterns: validation, splitting, matching one pattern, and whether
// one pattern covers another (for lint). The request pipeline never calls
// these per request; it uses the trie in trie.ts, which must agree with
// `patternMatches` (test/unit/acl-trie.test.ts checks that).
//
// A pattern is `/` followed by segments separated by `/`:
//   literal  matches the same segment, byte for byte (case-sensitive)
//   `*`      matches exactly one non-empty segment
//   `**`     only as the last segment: zero or more further segments
// Request paths arrive normalized (src/http): they start with `/`, hold no dot
// segments and no `//`. A trailing slash is an empty last segment, so `/foo`
// and `/foo/` are different paths, and `*` does not match that empty segment.

/** `*`: one whole non-empty segment. */
export const ONE = '*'
/** `**`: zero or more trailing segments. */
export const REST = '**'

// RFC 3986 §3.3 pchar, minus `%` (checked separately as pct-encoded).
const PCHAR = /^[A-Za-z0-9\-._~!$&'()*+,;=:@]$/
// RFC 3986 §2.3: these are decoded by normalization (§6.2.2.2), so an encoded form never matches.
const UNRESERVED = /^[A-Za-z0-9\-._~]$/

/** Segments of a valid pattern or of a normalized request path: `/a/b/` → ['a', 'b', '']. */
export function splitPath(path: string): string[] {
  return path.slice(1).split('/')
}

/** Why `pattern` is not a valid path pattern, or undefined. */
export function pathPatternProblem(pattern: string): string | undefined {
  if (pattern.length === 0) return 'must not be empty'
  if (pattern[0] !== '/') return 'must start with "/"'
  if (pattern.includes('?') || pattern.includes('#')) return 'must not contain "?" or "#": rules match the path only, never the query'
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!
    if (c === '/') continue
    if (c === '%') {
      const hex = pattern.slice(i + 1, i + 3)
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) return `"%" at offset ${i} must start a percent-encoding like %20`
      // RFC 3986 §6.2.2.1: normalized paths use uppercase hex digits.
      if (hex !== hex.toUpperCase()) return `write %${hex} with uppercase hex digits (%${hex.toUpperCase()}): paths are compared after normalization`
      const decoded = String.fromCharCode(parseInt(hex, 16))
      if (UNRESERVED.test(decoded)) return `write %${hex} as "${decoded}": normalization decodes it, so the encoded form never matches`
      if (decoded === '/' || decoded === '\\' || decoded === '\0') return `%${hex} can never match: the gateway rejects paths that contain it`
      i += 2
      continue
    }
    if (!PCHAR.test(c)) return `character ${JSON.stringify(c)} is not allowed in a path (percent-encode it)`
  }
  const segments = splitPath(pattern)
  for (let i = 0; i < segments.length; i++) {
    const s = segments[i]!
    const last = i === segments.length - 1
    if (s === '' && !last) return 'must not contain "//": normalized paths never do'
    if (s === '.' || s === '..') return 'must not contain "." or ".." segments: normalized paths never do'
    if (s === REST && !last) return '"**" may only be the last segment'
    if (s !== ONE && s !== REST && s.includes('*')) return '"*" and "**" must be a whole segment'
  }
  return undefined
}

/** Whether the valid pattern `segments` matches the normalized `path`'s segments. The reference for the trie. */
export function patternMatches(segments: readonly string[], pathSegments: readonly string[]): boolean {
  for (let i = 0; i < segments.length; i++) {
    const p = segments[i]!
    if (p === REST) return true
    if (i >= pathSegments.length) return false
    const s = pathSegments[i]!
    if (p === ONE ? s === '' : p !== s) return false
  }
  return segments.length === pathSegments.length
}

/**
 * Whether every path `inner` matches is also matched by `outer` (both valid
 * patterns). Exact for this pattern language: a segment of `inner` is covered
 * when `outer` has `**` there, the same literal, or `*` against a non-empty
 * literal or `*`.
 */
export function patternCovers(outer: readonly string[], inner: readonly string[]): boolean {
  for (let i = 0; ; i++) {
    const o = outer[i]
    if (o === REST) return true
    const n = inner[i]
    if (o === undefined || n === undefined) return o === n
    if (n === REST) return false // inner also matches the path that stops here; outer needs a segment
    if (o === ONE ? n === '' : o !== n) return false
  }
}

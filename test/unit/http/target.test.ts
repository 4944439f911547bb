import t from 'tap'
import fc from 'fast-check'
import { parseTarget, parseTargetFull, MAX_TARGET_LENGTH, type Target } from '../../../src/http/target.js'
import { GatewayError } from '../../../src/errors.js'

type Outcome =
  | { readonly path: string; readonly forward: string; readonly query?: string }
  | { readonly reject: RegExp }

const ok = (path: string, forward = path, query?: string): Outcome => ({ path, forward, query })
const no = (reason: RegExp): Outcome => ({ reject: reason })

const ABOVE_ROOT = /climbs above the root/
const ENC_SLASH = /percent-encoded slash/
const BAD_PCT = /invalid percent-encoding/
const BAD_BYTE = /control character, space or non-ASCII/
const ORIGIN_FORM = /origin-form/

// [target, outcome]: every row is either an exact accepted Target or a
// rejection for a named reason (so a row cannot pass by failing for another).
const TABLE: ReadonlyArray<readonly [string, Outcome]> = [
  // dot segments: resolved when they stay inside the root, rejected otherwise
  ['/public/../foo', ok('/foo')],
  ['/a/./b', ok('/a/b')],
  ['/a/b/..', ok('/a/')],
  ['/a/b/.', ok('/a/b/')],
  ['/a/..', ok('/')],
  ['/..', no(ABOVE_ROOT)],
  ['/../', no(ABOVE_ROOT)],
  ['/a/../..', no(ABOVE_ROOT)],
  ['/a/b/../../../c', no(ABOVE_ROOT)],
  ['/a/../../b', no(ABOVE_ROOT)],
  ['/%2e%2e/admin', no(ABOVE_ROOT)],
  ['/.%2e/x', no(ABOVE_ROOT)],
  ['/%2E./x', no(ABOVE_ROOT)],
  ['/a/%2e%2e', ok('/')],
  ['/%2e/admin', ok('/admin')],
  ['/public/%2E%2E/admin', ok('/admin')],
  ['/a/...', ok('/a/...')],
  ['/a/.hidden', ok('/a/.hidden')],
  ['/.well-known/popgate/jwks.json', ok('/.well-known/popgate/jwks.json')],
  // path parameters: a raw ';' is refused (Tomcat strips ';params' from every segment)
  ['/foo;x', no(/path parameters/)],
  ['/admin;x/secret', no(/path parameters/)],
  ['/foo%3Bx', ok('/foo%3Bx')],
  ['/foo?a=1;b=2', ok('/foo', '/foo?a=1;b=2', 'a=1;b=2')],
  ['/..;/admin', no(/path parameters/)],
  ['/public/..;/admin', no(/path parameters/)],
  ['/public/.;/admin', no(/path parameters/)],
  ['/public/%2e%2e;x/admin', no(/path parameters/)],
  ['/public/..%3B/admin', ok('/public/..%3B/admin')],
  // slashes
  ['//foo', ok('/foo')],
  ['///evil.example/x', ok('/evil.example/x')],
  ['/a//b', ok('/a/b')],
  ['/a//', ok('/a/')],
  ['//', ok('/')],
  ['/a//../b', ok('/b')], // empty segments collapse before dots resolve
  ['/foo%2fbar', no(ENC_SLASH)],
  ['/foo%2Fbar', no(ENC_SLASH)],
  ['/%2e%2e%2fadmin', no(ENC_SLASH)],
  // backslash, raw or encoded
  ['/foo\\bar', no(/backslash in path/)],
  ['/\\evil.example', no(/backslash in path/)],
  ['/foo%5cbar', no(/percent-encoded backslash/)],
  ['/foo%5Cbar', no(/percent-encoded backslash/)],
  // encoded controls
  ['/foo%00', no(/percent-encoded control/)],
  ['/foo%01', no(/percent-encoded control/)],
  ['/foo%0a', no(/percent-encoded control/)],
  ['/foo%1F', no(/percent-encoded control/)],
  ['/foo%7f', no(/percent-encoded control/)],
  ['/foo%20bar', ok('/foo%20bar')],
  // percent-encoding normalization (RFC 3986 §6.2.2.1, §6.2.2.2)
  ['/%7efoo', ok('/~foo')],
  ['/%41', ok('/A')],
  ['/%2d%2E%5f%7E%30%7a', ok('/-._~0z')],
  ['/a%3fb', ok('/a%3Fb')],
  ['/a%3Bb', ok('/a%3Bb')],
  ['/a%25', ok('/a%25')],
  ['/%252e%252e/', ok('/%252e%252e/')],
  ['/%252f', ok('/%252f')],
  ['/a%2', no(BAD_PCT)],
  ['/a%2/b', no(BAD_PCT)],
  ['/a%zz', no(BAD_PCT)],
  ['/a%', no(BAD_PCT)],
  ['/a%?x=1', no(BAD_PCT)],
  ['/%u002e%u002e/', no(BAD_PCT)],
  // UTF-8 behind percent-encoding: valid kept (uppercase hex), invalid rejected
  ['/caf%c3%a9', ok('/caf%C3%A9')],
  ['/%C0%AE%C0%AE/admin', no(/not valid UTF-8/)], // overlong '..'
  ['/a%C0%AFb', no(/not valid UTF-8/)], // overlong '/'
  ['/a%ED%A0%80', no(/not valid UTF-8/)], // surrogate
  ['/a%C3', no(/not valid UTF-8/)], // truncated
  ['/a%E9', no(/not valid UTF-8/)], // Latin-1 byte
  ['/a%C3/%A9', no(/not valid UTF-8/)], // a sequence split by '/'
  // raw bytes Node's strict parser should already refuse; we say so too
  ['/ ', no(BAD_BYTE)],
  ['/a b', no(BAD_BYTE)],
  ['/a\tb', no(BAD_BYTE)],
  ['/a\r\nb', no(BAD_BYTE)],
  ['/a\nb', no(BAD_BYTE)],
  ['/a\u0000', no(BAD_BYTE)],
  ['/a\u007f', no(BAD_BYTE)],
  ['/caf\u00e9', no(BAD_BYTE)], // é as one char
  ['/caf\u00c3\u00a9', no(BAD_BYTE)], // UTF-8 bytes as Node decodes them (latin1)
  ['/\u2215etc', no(BAD_BYTE)], // division slash
  // characters RFC 3986 does not allow raw in a path: one spelling, encoded
  ['/a{b}', ok('/a%7Bb%7D')],
  ['/a|b^c`d', ok('/a%7Cb%5Ec%60d')],
  ['/a"b<c>d[e]', ok('/a%22b%3Cc%3Ed%5Be%5D')],
  ['/a%7bb', ok('/a%7Bb')],
  // case is preserved: paths are case-sensitive
  ['/FOO', ok('/FOO')],
  ['/Admin/%2e/X', ok('/Admin/X')],
  // query: split at the first '?', never matched, forwarded byte for byte
  ['/foo?x=../..', ok('/foo', '/foo?x=../..', 'x=../..')],
  ['/foo?', ok('/foo', '/foo', '')],
  ['/?a=b', ok('/', '/?a=b', 'a=b')],
  ['/a?b?c', ok('/a', '/a?b?c', 'b?c')],
  ['/a?x=%00&y=%zz&z=%', ok('/a', '/a?x=%00&y=%zz&z=%', 'x=%00&y=%zz&z=%')],
  ['/a?q=a\\b', ok('/a', '/a?q=a\\b', 'q=a\\b')],
  ['/a/../b/?q=/../', ok('/b/', '/b/?q=/../', 'q=/../')],
  ['/%41?%41', ok('/A', '/A?%41', '%41')],
  ['/a?x y', no(BAD_BYTE)],
  ['/a?x\u0000', no(BAD_BYTE)],
  ['/a?x\r\nHost: evil', no(BAD_BYTE)],
  ['/a?\u00e9', no(BAD_BYTE)],
  // fragments are never sent by clients: refused
  ['/foo#frag', no(/fragment/)],
  ['/foo?x#frag', no(/fragment/)],
  ['/foo#', no(/fragment/)],
  // forms other than origin-form
  ['http://evil/foo', no(ORIGIN_FORM)],
  ['HTTPS://evil/foo', no(ORIGIN_FORM)],
  ['*', no(ORIGIN_FORM)],
  ['evil.example:443', no(ORIGIN_FORM)],
  ['foo', no(ORIGIN_FORM)],
  ['', no(ORIGIN_FORM)],
  ['\\foo', no(ORIGIN_FORM)],
  [' /foo', no(ORIGIN_FORM)],
  // ordinary targets
  ['/', ok('/')],
  ['/reports/q3/', ok('/reports/q3/')],
  ['/api/v1/items/42', ok('/api/v1/items/42')],
  ["/a/b:c@d!$&'()*+,=-_.~", ok("/a/b:c@d!$&'()*+,=-_.~")],
  // length limit (8 KiB, whole target)
  ['/' + 'a'.repeat(MAX_TARGET_LENGTH - 1), ok('/' + 'a'.repeat(MAX_TARGET_LENGTH - 1))],
  ['/' + 'a'.repeat(MAX_TARGET_LENGTH), no(/longer than 8 KiB/)],
  ['/a?' + 'q'.repeat(MAX_TARGET_LENGTH), no(/longer than 8 KiB/)],
]

const rejection = (target: string): GatewayError | undefined => {
  try {
    parseTarget(target)
    return undefined
  } catch (e) {
    if (e instanceof GatewayError) return e
    throw e
  }
}

t.test('table of tricky targets', async (t) => {
  t.ok(TABLE.length >= 30)
  for (const [target, want] of TABLE) {
    const name = JSON.stringify(target.length > 60 ? target.slice(0, 40) + '…(' + target.length + ')' : target)
    if ('reject' in want) {
      const err = rejection(target)
      t.ok(err, `${name} is rejected`)
      if (!err) continue
      t.equal(err.code, 'path_rejected', `${name} code`)
      t.equal(err.status, 400, `${name} status`)
      t.match(err.detail, want.reject, `${name} reason`)
    } else {
      let got: Target | undefined
      t.doesNotThrow(() => { got = parseTarget(target) }, `${name} is accepted`)
      if (!got) continue
      t.equal(got.path, want.path, `${name} path`)
      t.equal(got.forward, want.forward, `${name} forward`)
      t.equal(got.query, want.query ?? '', `${name} query`)
    }
  }
})

t.test('every accepted row is a fixed point, and fast path agrees with the full parse', async (t) => {
  for (const [target, want] of TABLE) {
    if ('reject' in want) continue
    const once = parseTarget(target)
    t.same(parseTarget(once.forward), once, `${JSON.stringify(target.slice(0, 60))} idempotent`)
    t.same(parseTargetFull(target), once, `${JSON.stringify(target.slice(0, 60))} full parse agrees`)
  }
})

t.test('the reason never echoes the target', async (t) => {
  const secret = 'SECRET-TOKEN-abc123'
  for (const target of [`/${secret}/%2f`, `http://${secret}/`, `/${secret}#x`, `/${secret}?a b`, `/${secret}/%zz`]) {
    const err = rejection(target)
    t.ok(err, `${JSON.stringify(target)} rejected`)
    t.notMatch(err?.message ?? '', secret)
  }
})

// Pieces that combine into the classic ambiguities; the generator below glues
// them together with no separator, so '%2' + 'f' and '.' + '%2e' appear.
const PIECES = [
  '/', '/', '/', '//', '.', '..', '%2e', '%2E', '.%2e', '%2e%2e', '%2f', '%2F', '%5c', '%5C', '\\',
  '%00', '%01', '%7f', '%25', '%252e', '%252f', '%', '%2', '%z', '%41', '%7e', '%7E', '%3b', '%3B',
  '%C3%A9', '%c3', '%C0%AE', '%C0%AF', ';', '..;', '.;', '?', '#', ' ', '\t', '\r\n', '\u00e9',
  'a', 'b', 'A', '~', '-', '_', ':', '@', '{', '}', '|', '^', '[', ']', '"', '`', 'http:', '*',
]
const targetArb = fc.array(fc.constantFrom(...PIECES), { maxLength: 24 }).map((ps) => ps.join(''))
// Origin-form, and a gentler mix, so the accepting branch is exercised often.
const originArb = targetArb.map((s) => '/' + s)
const GENTLE = ['/', '/', '//', '.', '..', '%2e', '.%2E', '%25', '%252e', '%41', '%7e', '%3b', '%C3%A9', ';', '?', 'a', 'B', '{', '|']
const gentleArb = fc.array(fc.constantFrom(...GENTLE), { maxLength: 16 }).map((ps) => '/' + ps.join(''))
const anyArb = fc.oneof(originArb, gentleArb, targetArb, fc.string({ unit: 'binary-ascii', maxLength: 40 }))

const tryParse = (s: string): Target | GatewayError => {
  try {
    return parseTarget(s)
  } catch (e) {
    if (e instanceof GatewayError) return e
    throw e
  }
}

t.test('property: accepted output is canonical, idempotent and inside the root', async (t) => {
  let accepted = 0
  fc.assert(
    fc.property(anyArb, (raw) => {
      const r = tryParse(raw)
      if (r instanceof GatewayError) {
        return r.code === 'path_rejected'
      }
      accepted++
      const { path, query, forward } = r
      // idempotent: the upstream, parsing what we forward, sees the same thing
      if (JSON.stringify(parseTarget(forward)) !== JSON.stringify(r)) return false
      if (forward !== (query === '' ? path : path + '?' + query)) return false
      if (!path.startsWith('/')) return false
      if (path.includes('//') || path.includes('\\')) return false
      if (/%2f|%5c|%00|%2e/i.test(path)) return false
      if (/%(?![0-9A-F]{2})/.test(path)) return false // every escape is two uppercase hex digits
      if (/[^\x21-\x7e]/.test(forward) || forward.includes('#')) return false
      const segments = path.split('/')
      for (const seg of segments) {
        const decoded = decodeURIComponent(seg) // throws (fails the property) on bad UTF-8
        if (decoded === '.' || decoded === '..') return false
        if (decoded.includes('/') || decoded.includes('\\')) return false
        if (/[\x00-\x1f\x7f]/.test(decoded)) return false
      }
      // A WHATWG-URL upstream resolves it to the very same path: nothing left
      // to climb out of '/' or to re-encode.
      if (new URL(path, 'http://upstream.test').pathname !== path) return false
      return true
    }),
    { numRuns: 20000 },
  )
  t.ok(accepted > 4000, `the generator reaches the accepting branch (${accepted} accepted)`)
})

t.test('property: the fast path never answers differently from the full parse', async (t) => {
  fc.assert(
    fc.property(anyArb, (raw) => {
      const fast = tryParse(raw)
      let full: Target | GatewayError
      try {
        full = parseTargetFull(raw)
      } catch (e) {
        if (!(e instanceof GatewayError)) throw e
        full = e
      }
      if (fast instanceof GatewayError || full instanceof GatewayError) {
        return fast instanceof GatewayError && full instanceof GatewayError && fast.detail === full.detail
      }
      return JSON.stringify(fast) === JSON.stringify(full)
    }),
    { numRuns: 20000 },
  )
  t.pass('20000 generated targets agree')
})

// A small model of the dot-segment rules over segments whose meaning is
// known: decoded value, '' collapses, '.' stays, '..' pops or rejects.
t.test('property: dot segments follow the remove_dot_segments model', async (t) => {
  const SEGS: Readonly<Record<string, string>> = {
    a: 'a', B: 'B', '': '', '.': '.', '..': '..', '%2e': '.', '%2E%2e': '..', '.%2E': '..', '%2e.': '..', '%61': 'a',
  }
  const segArb = fc.array(fc.constantFrom(...Object.keys(SEGS)), { minLength: 1, maxLength: 10 })
  fc.assert(
    fc.property(segArb, (segs) => {
      const stack: string[] = []
      let climbed = false
      let trailing = false
      segs.forEach((s, i) => {
        const v = SEGS[s]!
        const last = i === segs.length - 1
        if (v === '' || v === '.') trailing = last
        else if (v === '..') {
          if (stack.length === 0) climbed = true
          stack.pop()
          trailing = last
        } else {
          stack.push(v)
          trailing = false
        }
      })
      const r = tryParse('/' + segs.join('/'))
      if (climbed) return r instanceof GatewayError && /climbs above the root/.test(r.detail)
      const want = stack.length === 0 ? '/' : '/' + stack.join('/') + (trailing ? '/' : '')
      return !(r instanceof GatewayError) && r.path === want && r.forward === want
    }),
    { numRuns: 5000 },
  )
  t.pass('5000 generated segment lists follow the model')
})

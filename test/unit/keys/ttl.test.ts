import t from 'tap'
import { cacheTtlMs, freshnessLifetimeMs, parseCacheControl } from '../../../src/keys/ttl.js'

const NOW = Date.parse('2030-01-01T00:00:00Z')
const MIN = 60_000
const MAX = 3_600_000

t.test('freshness lifetime from Cache-Control and Expires (RFC 9111 §4.2.1)', async (t) => {
  t.equal(freshnessLifetimeMs({ 'cache-control': 'max-age=600' }, NOW), 600_000)
  t.equal(freshnessLifetimeMs({ 'cache-control': 'public, MAX-AGE="120"' }, NOW), 120_000, 'case-insensitive, quoted')
  t.equal(freshnessLifetimeMs({ 'cache-control': 's-maxage=300' }, NOW), 300_000, 's-maxage when no max-age')
  t.equal(freshnessLifetimeMs({ 'cache-control': 'max-age=100, s-maxage=300' }, NOW), 100_000, 'max-age wins for a private cache')
  t.equal(freshnessLifetimeMs({ 'cache-control': 'max-age=600', age: '100' }, NOW), 500_000, 'Age is subtracted')
  t.equal(freshnessLifetimeMs({ 'cache-control': 'max-age=600', age: '9000' }, NOW), 0)
  t.equal(freshnessLifetimeMs({ 'cache-control': 'no-store, max-age=600' }, NOW), 0, 'no-store beats max-age')
  t.equal(freshnessLifetimeMs({ 'cache-control': 'max-age=600, no-cache' }, NOW), 0, 'no-cache beats max-age')
  t.equal(freshnessLifetimeMs({ 'cache-control': 'no-cache="set-cookie"' }, NOW), 0)
  t.equal(freshnessLifetimeMs({ 'cache-control': 'max-age=600, max-age=5' }, NOW), 5_000, 'duplicates: the smaller')
  t.equal(freshnessLifetimeMs({ 'cache-control': ['public', 'max-age=42'] }, NOW), 42_000, 'repeated header')
  t.equal(freshnessLifetimeMs({ 'cache-control': 'max-age=-5' }, NOW), undefined, 'malformed max-age is ignored')
  t.equal(freshnessLifetimeMs({ 'cache-control': 'max-age=99999999999999999999' }, NOW), 2 ** 31 * 1000, 'huge values saturate')

  const in2h = new Date(NOW + 7_200_000).toUTCString()
  t.equal(freshnessLifetimeMs({ expires: in2h }, NOW), 7_200_000, 'Expires against our clock without Date')
  t.equal(freshnessLifetimeMs({ expires: in2h, date: new Date(NOW + 3_600_000).toUTCString() }, NOW), 3_600_000, 'Expires − Date')
  t.equal(freshnessLifetimeMs({ expires: '0' }, NOW), 0, 'invalid Expires means expired (RFC 9111 §5.3)')
  t.equal(freshnessLifetimeMs({ expires: in2h, 'cache-control': 'max-age=10' }, NOW), 10_000, 'max-age beats Expires')
  t.equal(freshnessLifetimeMs({}, NOW), undefined)
})

t.test('cache TTL is clamped to [min, max], min when the host says nothing', async (t) => {
  t.equal(cacheTtlMs({ 'cache-control': 'max-age=600' }, NOW, MIN, MAX), 600_000)
  t.equal(cacheTtlMs({ 'cache-control': 'max-age=5' }, NOW, MIN, MAX), MIN)
  t.equal(cacheTtlMs({ 'cache-control': 'no-store' }, NOW, MIN, MAX), MIN)
  t.equal(cacheTtlMs({ 'cache-control': 'max-age=31536000' }, NOW, MIN, MAX), MAX)
  t.equal(cacheTtlMs({}, NOW, MIN, MAX), MIN)
})

t.test('parseCacheControl keeps arguments and ignores empty parts', async (t) => {
  t.same([...parseCacheControl('a, ,B=1, c="x y"')], [['a', ''], ['b', '1'], ['c', 'x y']])
  t.same([...parseCacheControl(undefined)], [])
})

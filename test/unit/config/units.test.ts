import t from 'tap'
import { formatDurationMs, formatSizeBytes, parseDurationMs, parseSizeBytes } from '../../../src/config/units.js'

t.test('durations: every unit, exactly', async (t) => {
  t.equal(parseDurationMs('500ms'), 500)
  t.equal(parseDurationMs('30s'), 30_000)
  t.equal(parseDurationMs('5m'), 300_000)
  t.equal(parseDurationMs('1h'), 3_600_000)
  t.equal(parseDurationMs('1d'), 86_400_000)
  t.equal(parseDurationMs('0s'), 0, 'zero is a duration; the loader decides where it is allowed')
  t.equal(parseDurationMs('1.5s'), 1500)
  t.equal(parseDurationMs('1.1s'), 1100, 'no binary floating-point drift')
  t.equal(parseDurationMs('0.25h'), 900_000)
})

t.test('durations: a bare number needs a unit, and says so', async (t) => {
  for (const v of [300, '300', 0]) {
    const r = parseDurationMs(v)
    t.type(r, 'string', `${JSON.stringify(v)} refused`)
    t.match(r, /needs a unit/)
  }
})

t.test('durations: refused shapes', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['-5s', /negative/],
    [-5, /negative/],
    ['1.5ms', /whole number of milliseconds/],
    ['0.0001s', /whole number of milliseconds/],
    ['5min', /unknown duration unit "min"/],
    ['5S', /unknown duration unit "S"/],
    ['1h30m', /must be a duration/],
    ['5 s', /must be a duration/],
    [' 5s', /must be a duration/],
    ['s', /must be a duration/],
    ['.5s', /must be a duration/],
    ['1e3s', /must be a duration/],
    ['0x10s', /must be a duration/],
    ['', /must be a duration/],
    [true, /must be a duration/],
    [null, /must be a duration/],
    ['99999999999999999999d', /too large/],
    [`${Number.MAX_SAFE_INTEGER}s`, /too large/],
  ]
  for (const [v, re] of cases) t.match(parseDurationMs(v), re, `${JSON.stringify(v)}`)
  t.equal(parseDurationMs(`${Number.MAX_SAFE_INTEGER}ms`), Number.MAX_SAFE_INTEGER, 'the largest exact value is fine')
})

t.test('durations: a long bad value is not echoed whole', async (t) => {
  const r = parseDurationMs('x'.repeat(500))
  t.type(r, 'string')
  t.ok((r as string).length < 200)
})

t.test('sizes: binary units and bare bytes', async (t) => {
  t.equal(parseSizeBytes('512B'), 512)
  t.equal(parseSizeBytes('8KiB'), 8192)
  t.equal(parseSizeBytes('64KiB'), 65_536)
  t.equal(parseSizeBytes('1MiB'), 1_048_576)
  t.equal(parseSizeBytes('1GiB'), 1_073_741_824)
  t.equal(parseSizeBytes('0.5KiB'), 512)
  t.equal(parseSizeBytes(4096), 4096, 'a YAML integer is bytes')
  t.equal(parseSizeBytes('4096'), 4096, 'a digit string is bytes')
  t.equal(parseSizeBytes(0), 0)
})

t.test('sizes: refused shapes, with a hint for decimal units', async (t) => {
  const cases: Array<[unknown, RegExp]> = [
    ['64KB', /binary units, write "64KiB"/],
    ['64kb', /binary units, write "64KiB"/],
    ['1MB', /write "1MiB"/],
    ['2G', /write "2GiB"/],
    ['64kib', /write "64KiB"/],
    ['10TiB', /unknown size unit "TiB"/],
    ['-1KiB', /negative/],
    [-1, /negative/],
    [1.5, /whole number of bytes/],
    ['1.5B', /whole number of bytes/],
    ['0.1KiB', /whole number of bytes/],
    ['1.5', /whole number of bytes/],
    ['64 KiB', /must be a size/],
    ['KiB', /must be a size/],
    [false, /must be a size/],
    [Number.MAX_SAFE_INTEGER + 2, /too large/],
    ['9999999999GiB', /too large/],
  ]
  for (const [v, re] of cases) t.match(parseSizeBytes(v), re, `${JSON.stringify(v)}`)
})

t.test('formatting picks the shortest exact spelling and round-trips', async (t) => {
  t.equal(formatDurationMs(300_000), '5m')
  t.equal(formatDurationMs(90_000), '90s')
  t.equal(formatDurationMs(1500), '1500ms')
  t.equal(formatDurationMs(0), '0ms')
  t.equal(formatSizeBytes(65_536), '64KiB')
  t.equal(formatSizeBytes(1000), '1000B')
  for (const ms of [1, 999, 1000, 60_000, 86_400_000, 2 ** 31 - 1]) t.equal(parseDurationMs(formatDurationMs(ms)), ms)
  for (const b of [0, 1, 1023, 1024, 1536, 1024 ** 3]) t.equal(parseSizeBytes(formatSizeBytes(b)), b)
})

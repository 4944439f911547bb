// Durations and sizes as the config file spells them (PROTOCOL.md §8):
// `500ms`, `30s`, `5m`, `1h`, `1d`; `512B`, `8KiB`, `64KiB`, `1MiB`, `1GiB`.
// Each parser returns the number (milliseconds / bytes) or a string saying
// what is wrong; the caller attaches the file position.
//
// Durations always need a unit: a bare `300` is ambiguous (seconds? ms?) and
// has bitten operators of other proxies, so it is refused with a hint.
// Sizes use binary units only; `KB` is refused rather than guessed at
// (1000 or 1024?). A bare integer size means bytes.
// Decimal fractions are accepted when they land on a whole unit of the
// result (`1.5s` = 1500 ms, `0.5KiB` = 512 bytes); `1.5ms` or `0.1KiB` are not.
// Arithmetic is done on BigInt so `1.1s` is exactly 1100, never 1100.0000001.

const DURATION_UNITS_MS: Readonly<Record<string, bigint>> = {
  ms: 1n,
  s: 1000n,
  m: 60_000n,
  h: 3_600_000n,
  d: 86_400_000n,
}

const SIZE_UNITS_BYTES: Readonly<Record<string, bigint>> = {
  B: 1n,
  KiB: 1024n,
  MiB: 1024n ** 2n,
  GiB: 1024n ** 3n,
}

const MAX = BigInt(Number.MAX_SAFE_INTEGER)
const NUMBER_WITH_UNIT = /^(\d+)(?:\.(\d+))?([A-Za-z]*)$/

/** Echo short values only, so a stray secret pasted into the wrong key is not printed whole. */
function shown(v: string): string {
  return JSON.stringify(v.length > 32 ? v.slice(0, 32) + '…' : v)
}

/** `digits[.frac] × unit`, exactly; a string when it is not a whole number or too big. */
function scale(intDigits: string, fracDigits: string | undefined, unit: bigint, what: string): number | string {
  const frac = fracDigits ?? ''
  const denominator = 10n ** BigInt(frac.length)
  const numerator = BigInt(intDigits + frac) * unit
  if (numerator % denominator !== 0n) return `must be a whole number of ${what}`
  const value = numerator / denominator
  if (value > MAX) return 'is too large'
  return Number(value)
}

/** `500ms`, `30s`, `5m`, `1h`, `1d` → milliseconds; a unit is required. */
export function parseDurationMs(v: unknown): number | string {
  const expected = 'must be a duration: a number and a unit ms, s, m, h or d (e.g. "30s", "500ms")'
  if (typeof v === 'number') {
    if (v < 0) return 'must not be negative'
    return `needs a unit: write "${v}s" or "${v}ms", not a bare ${v}`
  }
  if (typeof v !== 'string') return expected
  if (v.startsWith('-')) return 'must not be negative'
  const m = NUMBER_WITH_UNIT.exec(v)
  if (!m) return `${expected}; got ${shown(v)}`
  const [, intDigits, fracDigits, unitName] = m as unknown as [string, string, string | undefined, string]
  if (unitName === '') return `needs a unit: write "${v}s" or "${v}ms", not a bare ${v}`
  const unit = DURATION_UNITS_MS[unitName]
  if (unit === undefined) return `unknown duration unit ${shown(unitName)}: use ms, s, m, h or d (e.g. "30s", "5m")`
  return scale(intDigits, fracDigits, unit, 'milliseconds')
}

/** `512B`, `8KiB`, `64KiB`, `1MiB`, `1GiB` → bytes; a bare non-negative integer is bytes. */
export function parseSizeBytes(v: unknown): number | string {
  const expected = 'must be a size: bytes, or a number and a unit B, KiB, MiB or GiB (e.g. "64KiB")'
  if (typeof v === 'number') {
    if (v < 0) return 'must not be negative'
    if (!Number.isInteger(v)) return 'must be a whole number of bytes'
    if (v > Number.MAX_SAFE_INTEGER) return 'is too large'
    return v
  }
  if (typeof v !== 'string') return expected
  if (v.startsWith('-')) return 'must not be negative'
  const m = NUMBER_WITH_UNIT.exec(v)
  if (!m) return `${expected}; got ${shown(v)}`
  const [, intDigits, fracDigits, unitName] = m as unknown as [string, string, string | undefined, string]
  const unit = unitName === '' ? 1n : SIZE_UNITS_BYTES[unitName]
  if (unit === undefined) {
    const binary = /^[kmg]i?b?$/i.test(unitName) ? `${unitName[0]!.toUpperCase()}iB` : undefined
    return binary !== undefined
      ? `unknown size unit ${shown(unitName)}: sizes use binary units, write "${intDigits}${fracDigits ? '.' + fracDigits : ''}${binary}" (1KiB = 1024 bytes)`
      : `unknown size unit ${shown(unitName)}: use B, KiB, MiB or GiB (e.g. "64KiB")`
  }
  return scale(intDigits, fracDigits, unit, 'bytes')
}

/** The shortest exact spelling of a millisecond count, for messages and docs (`300000` → `5m`). */
export function formatDurationMs(ms: number): string {
  for (const [name, size] of [['d', 86_400_000], ['h', 3_600_000], ['m', 60_000], ['s', 1000]] as const) {
    if (ms !== 0 && ms % size === 0) return `${ms / size}${name}`
  }
  return `${ms}ms`
}

/** The shortest exact spelling of a byte count (`65536` → `64KiB`). */
export function formatSizeBytes(bytes: number): string {
  for (const [name, size] of [['GiB', 1024 ** 3], ['MiB', 1024 ** 2], ['KiB', 1024]] as const) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${name}`
  }
  return `${bytes}B`
}

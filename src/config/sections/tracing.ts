// Section `tracing`: OpenTelemetry traces exported over OTLP/HTTP
// (src/tracing/, docs/operations.md "Tracing"). Off unless an endpoint is
// given, in the file or through the standard OTEL_* variables, which
// override the file like every other environment variable (PROTOCOL.md §8):
//
//   OTEL_EXPORTER_OTLP_TRACES_ENDPOINT  tracing.otlp.endpoint (the full URL)
//   OTEL_EXPORTER_OTLP_ENDPOINT         tracing.otlp.endpoint (+ /v1/traces), if the above is unset
//   OTEL_EXPORTER_OTLP_TRACES_HEADERS   tracing.otlp.headers (k=v,k2=v2)
//   OTEL_EXPORTER_OTLP_HEADERS          tracing.otlp.headers, if the above is unset
//   OTEL_EXPORTER_OTLP_TRACES_TIMEOUT   tracing.otlp.timeout (milliseconds)
//   OTEL_EXPORTER_OTLP_TIMEOUT          tracing.otlp.timeout, if the above is unset
//   OTEL_SERVICE_NAME                   tracing.serviceName
//   OTEL_TRACES_SAMPLER(_ARG)           tracing.sampleRatio (always_on 1, always_off 0,
//                                       traceidratio / parentbased_traceidratio: the ARG)
//   OTEL_SDK_DISABLED=true              tracing off, whatever the file says

import type { TracingConfig } from '../types.js'
import type { YNode } from '../yaml-source.js'
import { INVALID, Section, describe, duration, httpUrl, scalar, str, type Reader } from '../readers.js'

/** Header field names (RFC 9110 §5.1 token) and values without control characters. */
const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
const FIELD_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/

/** `headers`: a map in the file, or `k=v,k2=v2` (URL-encoded values) from OTEL_EXPORTER_OTLP_(TRACES_)HEADERS. */
const headers: Reader<Record<string, string>> = (node: YNode, path, source) => {
  const out: Record<string, string> = Object.create(null) as Record<string, string>
  let pairs: [string, unknown][]
  if (node.kind === 'map') pairs = node.entries.map((e) => [e.key, e.value.kind === 'scalar' ? e.value.value : undefined])
  else if (node.kind === 'scalar' && typeof node.value === 'string') {
    pairs = node.value.split(',').filter((p) => p.trim() !== '').map((p) => {
      const i = p.indexOf('=')
      if (i < 0) return [p.trim(), undefined]
      try { return [p.slice(0, i).trim(), decodeURIComponent(p.slice(i + 1).trim())] } catch { return [p.slice(0, i).trim(), undefined] }
    })
  } else {
    source.problems.at(node.pos, path, `must be a map of header names to values; got ${node.kind === 'seq' ? 'a list' : describe(node.value)}`)
    return INVALID
  }
  let bad = false
  for (const [name, value] of pairs) {
    // The value is a secret (an API key): problems name the header, never echo the value.
    if (!TOKEN.test(name)) { source.problems.at(node.pos, path, `${describe(name)} is not a header name`); bad = true; continue }
    if (typeof value !== 'string' || !FIELD_VALUE.test(value)) { source.problems.at(node.pos, `${path}.${name}`, 'must be a string of printable characters'); bad = true; continue }
    out[name.toLowerCase()] = value
  }
  return bad ? INVALID : out
}

const ratio = scalar((v) => {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v
  return typeof n === 'number' && Number.isFinite(n) && n >= 0 && n <= 1 ? { value: n } : `must be a number from 0 to 1; got ${describe(v)}`
})

const endpoint = scalar((v) => {
  const u = httpUrl(v, 'http://otel-collector:4318/v1/traces')
  return typeof u === 'string' ? u : { value: u }
})

/** Past this an export holds spans (memory) longer than it is worth; the request path never waits for it. */
const MAX_TIMEOUT_MS = 60_000

export function readTracing(root: Section): TracingConfig | undefined {
  const t = root.sub('tracing', ['otlp', 'sampleRatio', 'serviceName'])
  const o = t.sub('otlp', ['endpoint', 'headers', 'timeout'])
  const config: TracingConfig = {
    endpoint: o.get('endpoint', endpoint, new URL('http://invalid.invalid')),
    headers: o.get('headers', headers, {}),
    timeoutMs: o.get('timeout', duration(), 10_000),
    sampleRatio: t.get('sampleRatio', ratio, 1),
    serviceName: t.get('serviceName', scalar(str), 'popgate'),
  }
  if (config.timeoutMs > MAX_TIMEOUT_MS) o.report('timeout', `must be at most ${MAX_TIMEOUT_MS / 1000}s`)
  if (!o.has('endpoint')) {
    // Anything else under tracing without an endpoint would be silently ignored.
    if (t.present) t.report('otlp', 'tracing needs otlp.endpoint (or $OTEL_EXPORTER_OTLP_TRACES_ENDPOINT); remove the section to turn tracing off')
    return undefined
  }
  return config
}

type Env = Readonly<Record<string, string | undefined>>

/**
 * The OTEL_* variables as key path → value, for the loader's environment
 * overrides; `disabled` when OTEL_SDK_DISABLED=true. Unknown sampler names
 * are passed as they are, so the ratio check names the variable.
 */
export function otelOverrides(env: Env): { readonly values: ReadonlyArray<readonly [variable: string, path: string, value: string]>; readonly disabled: boolean } {
  const values: [string, string, string][] = []
  const first = (...names: string[]) => names.find((n) => env[n] !== undefined && env[n] !== '')
  const ep = first('OTEL_EXPORTER_OTLP_TRACES_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT')
  if (ep) values.push([ep, 'tracing.otlp.endpoint', ep === 'OTEL_EXPORTER_OTLP_ENDPOINT' ? env[ep]!.replace(/\/+$/, '') + '/v1/traces' : env[ep]!])
  const hd = first('OTEL_EXPORTER_OTLP_TRACES_HEADERS', 'OTEL_EXPORTER_OTLP_HEADERS')
  if (hd) values.push([hd, 'tracing.otlp.headers', env[hd]!])
  const to = first('OTEL_EXPORTER_OTLP_TRACES_TIMEOUT', 'OTEL_EXPORTER_OTLP_TIMEOUT')
  if (to) values.push([to, 'tracing.otlp.timeout', /^\d+$/.test(env[to]!) ? `${env[to]}ms` : env[to]!])
  if (first('OTEL_SERVICE_NAME')) values.push(['OTEL_SERVICE_NAME', 'tracing.serviceName', env.OTEL_SERVICE_NAME!])
  const sampler = env.OTEL_TRACES_SAMPLER
  if (sampler === 'always_on' || sampler === 'parentbased_always_on') values.push(['OTEL_TRACES_SAMPLER', 'tracing.sampleRatio', '1'])
  else if (sampler === 'always_off' || sampler === 'parentbased_always_off') values.push(['OTEL_TRACES_SAMPLER', 'tracing.sampleRatio', '0'])
  else if (first('OTEL_TRACES_SAMPLER_ARG')) values.push(['OTEL_TRACES_SAMPLER_ARG', 'tracing.sampleRatio', env.OTEL_TRACES_SAMPLER_ARG!])
  return { values, disabled: env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true' }
}

// Section `tracing` (config/sections/tracing.ts): the keys, their checks at
// file:line, and the standard OTEL_* variables as overrides.

import t from 'tap'
import { parseConfig } from '../../../src/config/load.js'
import { formatProblem } from '../../../src/config/yaml-source.js'

const FILE = '/srv/popgate/gateway.yaml'
const BASE = 'publicOrigin: https://bob.example\nupstream: http://127.0.0.1:3000\nacl: acl.yaml\n'
const parse = (text: string, env: Record<string, string> = {}) => {
  const r = parseConfig(BASE + text, FILE, env)
  return { config: r.config, problems: r.problems.map(formatProblem) }
}

t.test('off by default; on with an endpoint, with defaults', async (t) => {
  t.equal(parse('').config!.tracing, undefined)
  const c = parse('tracing:\n  otlp:\n    endpoint: http://otel:4318/v1/traces\n').config!.tracing!
  t.equal(c.endpoint.href, 'http://otel:4318/v1/traces')
  t.same([c.sampleRatio, c.serviceName, c.timeoutMs, c.headers], [1, 'popgate', 10_000, {}])
})

t.test('every key, read', async (t) => {
  const c = parse('tracing:\n  otlp:\n    endpoint: https://otel.example/v1/traces\n    headers:\n      X-Api-Key: abc\n    timeout: 2s\n  sampleRatio: 0.25\n  serviceName: edge\n').config!.tracing!
  t.same([c.sampleRatio, c.serviceName, c.timeoutMs, c.headers], [0.25, 'edge', 2000, { 'x-api-key': 'abc' }])
})

t.test('problems at file:line, the secret header value never echoed', async (t) => {
  const cases: [string, RegExp][] = [
    ['tracing:\n  sampleRatio: 0.5\n', /^\/srv\/popgate\/gateway\.yaml:4:\d+: tracing\.otlp: tracing needs otlp\.endpoint/],
    ['tracing:\n  otlp:\n    endpoint: ftp://otel/v1\n', /:6:15: tracing\.otlp\.endpoint: must be an http: or https: URL/],
    ['tracing:\n  otlp:\n    endpoint: http://u:p@otel/v1\n', /:6:15: tracing\.otlp\.endpoint: must not contain userinfo/],
    ['tracing:\n  otlp:\n    endpoint: http://otel/v1\n  sampleRatio: 1.5\n', /:7:16: tracing\.sampleRatio: must be a number from 0 to 1/],
    ['tracing:\n  otlp:\n    endpoint: http://otel/v1\n  sampleRatio: abc\n', /:7:16: tracing\.sampleRatio: must be a number from 0 to 1/],
    ['tracing:\n  otlp:\n    endpoint: http://otel/v1\n    headers:\n      "bad name": x\n', /:8:7: tracing\.otlp\.headers: "bad name" is not a header name/],
    ['tracing:\n  otlp:\n    endpoint: http://otel/v1\n    headers:\n      x-key: "sec\\u0001ret"\n', /:8:7: tracing\.otlp\.headers\.x-key: must be a string of printable characters$/],
    ['tracing:\n  otlp:\n    endpoint: http://otel/v1\n    timeout: 5m\n', /:7:14: tracing\.otlp\.timeout: must be at most 60s/],
    ['tracing:\n  otlp:\n    endpoint: http://otel/v1\n  sample: 1\n', /:7:3: tracing\.sample: unknown key/],
  ]
  for (const [text, re] of cases) {
    const { config, problems } = parse(text)
    t.equal(config, undefined)
    t.equal(problems.length, 1, problems.join(' | '))
    t.match(problems[0], re)
    t.notOk(problems[0]!.includes('ret"'), 'no header value in the message')
  }
})

t.test('OTEL_* variables override the file', async (t) => {
  const file = 'tracing:\n  otlp:\n    endpoint: http://file/v1/traces\n  sampleRatio: 0.5\n  serviceName: from-file\n'
  const c = parse(file, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://env/v1/traces', OTEL_SERVICE_NAME: 'from-env', OTEL_TRACES_SAMPLER: 'parentbased_traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.1', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b,x=y', OTEL_EXPORTER_OTLP_TIMEOUT: '1500' }).config!.tracing!
  t.same([c.endpoint.href, c.serviceName, c.sampleRatio, c.headers, c.timeoutMs], ['http://env/v1/traces', 'from-env', 0.1, { 'api-key': 'a b', x: 'y' }, 1500])
  t.equal(parse('', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }).config!.tracing!.endpoint.href, 'http://collector:4318/v1/traces', 'the base endpoint gets /v1/traces')
  t.equal(parse('', { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://a:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://b/t' }).config!.tracing!.endpoint.href, 'http://b/t', 'the traces variable wins')
  t.equal(parse(file, { OTEL_TRACES_SAMPLER: 'always_off' }).config!.tracing!.sampleRatio, 0)
  t.equal(parse(file, { OTEL_SDK_DISABLED: 'true' }).config!.tracing, undefined, 'OTEL_SDK_DISABLED turns it off')
  const bad = parse(file, { OTEL_TRACES_SAMPLER_ARG: 'lots' })
  t.match(bad.problems, [/^\$OTEL_TRACES_SAMPLER_ARG:1:1: tracing\.sampleRatio: must be a number from 0 to 1/])
})

// Where finished spans go: OpenTelemetry's BatchSpanProcessor and OTLP/HTTP
// exporter (JSON), behind two guards so that a collector that is down,
// slow or refusing changes nothing for requests and is visible:
//
// - a bound on spans waiting to be exported (MAX_QUEUED): past it a span is
//   dropped at once (the batch processor would drop it too, uncounted);
// - every span that does not reach the collector — dropped at the bound or
//   in a failed export — is counted in popgate_spans_dropped_total, and an
//   outage is logged once when it begins and once when it ends.
//
// Exports run on timers off the request path; a request only pays the
// span's end() and a queue push.

import type { Context } from '@opentelemetry/api'
import { ExportResultCode, type ExportResult } from '@opentelemetry/core'
import { BatchSpanProcessor, type ReadableSpan, type Span, type SpanExporter, type SpanProcessor } from '@opentelemetry/sdk-trace-base'
import type { Logger } from '../log.js'

/** Spans waiting for an export, at most; also the batch processor's own queue size. */
export const MAX_QUEUED = 2048

export interface DropReport {
  /** `n` spans will never reach the collector. */
  dropped(n: number): void
}

/** Counts and logs export failures; passes everything through. */
export function watchedExporter(inner: SpanExporter, log: Logger, report: DropReport, onExported: (n: number) => void, timeoutMs: number): SpanExporter {
  let failing = false
  return {
    export(spans, done) {
      let answered = false
      // An exporter that never answers must not hold its spans in the count forever.
      const timer = setTimeout(() => finish({ code: ExportResultCode.FAILED, error: new Error(`no answer within ${timeoutMs} ms`) }), timeoutMs + 2_000)
      timer.unref()
      const finish = (result: ExportResult): void => {
        if (answered) return
        answered = true
        clearTimeout(timer)
        onExported(spans.length)
        if (result.code === ExportResultCode.SUCCESS) {
          if (failing) { failing = false; log.info('trace export recovered') }
        } else {
          report.dropped(spans.length)
          if (!failing) {
            failing = true
            // No URL or header here: the endpoint may carry a key in its headers.
            log.warn({ reason: result.error?.message ?? 'export failed' }, 'trace export failing; spans are dropped and counted in popgate_spans_dropped_total until it recovers')
          }
        }
        done(result)
      }
      inner.export(spans, finish)
    },
    shutdown: () => inner.shutdown(),
    forceFlush: () => inner.forceFlush?.() ?? Promise.resolve(),
  }
}

/** The batch processor, with spans past MAX_QUEUED dropped and counted before they reach it. */
export function boundedProcessor(exporter: SpanExporter, log: Logger, report: DropReport, opts: { exportTimeoutMs: number }): SpanProcessor {
  let queued = 0
  const watched = watchedExporter(exporter, log, report, (n) => { queued -= n }, opts.exportTimeoutMs)
  const batch = new BatchSpanProcessor(watched, { maxQueueSize: MAX_QUEUED, exportTimeoutMillis: opts.exportTimeoutMs + 1_000 })
  return {
    onStart(span: Span, ctx: Context) { batch.onStart(span, ctx) },
    onEnd(span: ReadableSpan) {
      if (queued >= MAX_QUEUED) { report.dropped(1); return }
      queued++
      batch.onEnd(span)
    },
    forceFlush: () => batch.forceFlush(),
    shutdown: () => batch.shutdown(),
  }
}

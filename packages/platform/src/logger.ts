import pino from 'pino';
import { context, trace } from '@opentelemetry/api';

export type Logger = pino.Logger;

/**
 * JSON logs on stdout; inside a span every line carries trace_id and span_id. Lines are written
 * asynchronously: those that come while a write is under way go out together in the next one,
 * and what is left is flushed when the process exits.
 */
export function createLogger(service: string, level = 'info'): Logger {
  return pino(
    {
      level,
      base: { service },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin() {
        const span = trace.getSpan(context.active());
        if (!span) return {};
        const { traceId, spanId } = span.spanContext();
        return { trace_id: traceId, span_id: spanId };
      },
    },
    pino.destination({ dest: 1, sync: false, minLength: 0 }),
  );
}

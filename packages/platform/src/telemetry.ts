import { context, propagation, trace, ROOT_CONTEXT, type Context, type Link, type Span, SpanKind, SpanStatusCode } from '@opentelemetry/api';

export { SpanKind };

const SDK_KEY = Symbol.for('pipewright.telemetry.sdk');
type Sdk = { shutdown(): Promise<void> };
const holder = globalThis as unknown as Record<symbol, Sdk | undefined>;

/**
 * Tracing is on when the environment says where traces go: an OTLP endpoint, or an
 * OTEL_TRACES_EXPORTER other than none; OTEL_SDK_DISABLED=true turns it off whatever else is
 * set. Off, no SDK is loaded and no span is built. Sampling follows OTEL_TRACES_SAMPLER and
 * OTEL_TRACES_SAMPLER_ARG, as the SDK reads them.
 */
export function tracingConfigured(env: Record<string, string | undefined>): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporter = env.OTEL_TRACES_EXPORTER?.trim().toLowerCase();
  if (exporter) return exporter !== 'none';
  return Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim() || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT?.trim());
}

// Kafka spans are made by the adapter itself (kafka.ts, consumer.ts): a send span per produce
// request linked to every message's trace (a message carries its caller's trace context), and
// for a fetched batch a span linked to every message's trace plus one per message in its own.
export function startTelemetry(): void {
  if (holder[SDK_KEY] || !tracingConfigured(process.env)) return;
  // Only traces leave the process unless the user asks for metrics or logs through OTLP too.
  process.env.OTEL_METRICS_EXPORTER ??= 'none';
  process.env.OTEL_LOGS_EXPORTER ??= 'none';
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { NodeSDK } = require('@opentelemetry/sdk-node') as typeof import('@opentelemetry/sdk-node');
  const { GrpcInstrumentation } = require('@opentelemetry/instrumentation-grpc') as typeof import('@opentelemetry/instrumentation-grpc');
  const { PgInstrumentation } = require('@opentelemetry/instrumentation-pg') as typeof import('@opentelemetry/instrumentation-pg');
  const sdk = new NodeSDK({
    instrumentations: [new GrpcInstrumentation({ ignoreGrpcMethods: ['Check', 'Watch', 'ServerReflectionInfo'] }), new PgInstrumentation({ requireParentSpan: true })],
  });
  sdk.start();
  holder[SDK_KEY] = sdk;
}

/** Flushes and stops the SDK; called last during shutdown. */
export async function shutdownTelemetry(): Promise<void> {
  const sdk = holder[SDK_KEY];
  holder[SDK_KEY] = undefined;
  if (sdk) await sdk.shutdown().catch(() => undefined);
}

export const tracer = () => trace.getTracer('pipewright');

/** True when this process exports traces: without it, no span is worth building. */
export function tracingEnabled(): boolean {
  return holder[SDK_KEY] !== undefined;
}

/** Span links to the traces these carriers (message headers) belong to, one per distinct trace context. */
export function linksTo(carriers: Array<Record<string, string> | null | undefined>): Link[] {
  const links: Link[] = [];
  const seen = new Set<string>();
  for (const c of carriers) {
    const parent = c?.traceparent;
    if (!parent || seen.has(parent)) continue;
    seen.add(parent);
    const sc = trace.getSpanContext(restoreTraceContext(c));
    if (sc) links.push({ context: sc });
  }
  return links;
}

/** The W3C trace headers (traceparent, tracestate) among a message's headers, for storing. */
export function traceHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  if (headers.traceparent) out.traceparent = headers.traceparent;
  if (headers.tracestate) out.tracestate = headers.tracestate;
  return out;
}

/** The active trace context as a W3C traceparent (and tracestate), for storing beside data. */
export function captureTraceContext(ctx: Context = context.active()): Record<string, string> {
  const carrier: Record<string, string> = {};
  propagation.inject(ctx, carrier);
  return carrier;
}

/** A context whose parent is a stored trace context, so later work joins the original trace. */
export function restoreTraceContext(carrier: Record<string, string> | null | undefined): Context {
  if (!carrier || Object.keys(carrier).length === 0) return ROOT_CONTEXT;
  return propagation.extract(ROOT_CONTEXT, carrier);
}

/** Runs fn inside a new span, child of parent (or of the active context), recording failures. */
export async function inSpan<T>(name: string, fn: (span: Span) => Promise<T>, parent?: Context, attributes?: Record<string, string | number | boolean>, kind?: SpanKind, links?: Link[]): Promise<T> {
  return tracer().startActiveSpan(name, { attributes, kind, links }, parent ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err as Error);
      span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error).message });
      throw err;
    } finally {
      span.end();
    }
  });
}

/**
 * One span per message, each a child of the trace context its headers carry: for batch
 * handlers, so that each message's work stays in its own trace. end() closes them all, marking
 * the given indexes (or all, with an error) as failed.
 */
export function messageSpans(name: string, msgs: Array<{ headers: Record<string, string>; topic: string; partition: number; offset: string }>) {
  const spans = msgs.map((m) => {
    const parent = restoreTraceContext(m.headers);
    const span = tracer().startSpan(
      name,
      {
        kind: SpanKind.CONSUMER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.name': 'process',
          'messaging.destination.name': m.topic,
          'messaging.destination.partition.id': String(m.partition),
          'messaging.kafka.offset': m.offset,
        },
      },
      parent,
    );
    return { span, context: trace.setSpan(parent, span) };
  });
  return {
    contexts: spans.map((s) => s.context),
    end(failed: number[] = [], err?: Error) {
      const bad = new Set(failed);
      spans.forEach(({ span }, i) => {
        if (err || bad.has(i)) span.setStatus({ code: SpanStatusCode.ERROR, message: err?.message ?? 'sent to the dead-letter topic' });
        span.end();
      });
    },
  };
}

/** Runs fn with ctx as the active context (a message's span, from a batch item), or as is without one. */
export function inTraceContext<T>(ctx: Context | undefined, fn: () => T): T {
  return ctx ? context.with(ctx, fn) : fn();
}

/**
 * Puts the trace context of a message about to be sent into its headers: its own parent (a
 * span of the job it belongs to) or the caller's active context. No span is made per message:
 * the message joins its trace through the consumer's span, and the produce request that carries
 * it has a span of its own (requestSpans).
 */
export function injectTraceContext(parent: Context | undefined, headers: Record<string, unknown>): void {
  propagation.inject(parent ?? context.active(), headers);
}

/**
 * One producer span per topic of a produce request, linked to the trace of every message it
 * carries (the messaging conventions for a batch send); end() closes them, recording a failure.
 */
export function requestSpans(topics: Array<{ topic: string; headers: Array<Record<string, unknown> | undefined> }>) {
  const spans = topics.map(({ topic, headers }) =>
    tracer().startSpan(
      `send ${topic}`,
      {
        kind: SpanKind.PRODUCER,
        attributes: {
          'messaging.system': 'kafka',
          'messaging.operation.name': 'send',
          'messaging.destination.name': topic,
          'messaging.batch.message_count': headers.length,
        },
        links: linksTo(headers as Array<Record<string, string> | undefined>),
      },
      ROOT_CONTEXT,
    ),
  );
  return {
    end(err?: Error) {
      for (const span of spans) {
        if (err) {
          span.recordException(err);
          span.setStatus({ code: SpanStatusCode.ERROR, message: err.message });
        }
        span.end();
      }
    },
  };
}

/** A span in the trace a stored carrier names, started now; its context parents what it causes. */
export function childSpan(name: string, carrier: Record<string, string> | null | undefined, attributes?: Record<string, string | number | boolean>): { context: Context; end(): void } {
  const parent = restoreTraceContext(carrier);
  const span = tracer().startSpan(name, { attributes }, parent);
  return { context: trace.setSpan(parent, span), end: () => span.end() };
}

// Errors at the gRPC edge: what a handler throws becomes a status a client can act on. An
// RpcError keeps its code (INVALID_ARGUMENT also carries google.rpc.BadRequest field violations
// in grpc-status-details-bin, so clients read which field without parsing text); a lost or
// timed-out Kafka or PostgreSQL connection is UNAVAILABLE (clients retry it); anything else is
// INTERNAL with a generic message and an id that the log line with the real error also carries.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { context, trace } from '@opentelemetry/api';

export interface FieldViolation {
  field: string;
  description: string;
}

/** A gRPC error with a status code; handlers throw it and the wrapper turns it into a status. */
export class RpcError extends Error {
  readonly violations: FieldViolation[];

  constructor(
    readonly code: grpc.status,
    message: string,
    readonly field?: string,
    violations?: FieldViolation[],
  ) {
    super(message);
    this.name = 'RpcError';
    this.violations = violations ?? [];
  }
}

/** INVALID_ARGUMENT naming the field; more violations (other fields) may ride along. */
export const invalidArgument = (field: string, problem: string, more: FieldViolation[] = []) =>
  new RpcError(grpc.status.INVALID_ARGUMENT, `${field}: ${problem}${more.length ? `; also ${more.map((v) => `${v.field}: ${v.description}`).join('; ')}` : ''}`, field, [
    { field, description: problem },
    ...more,
  ]);
export const notFound = (what: string) => new RpcError(grpc.status.NOT_FOUND, `${what} not found`);
export const failedPrecondition = (why: string) => new RpcError(grpc.status.FAILED_PRECONDITION, why);

// --- protobuf wire encoding of google.rpc.Status { code, message, details: [Any(BadRequest)] }

function varint(n: number): Buffer {
  const out: number[] = [];
  let v = n >>> 0;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return Buffer.from(out);
}
const field = (no: number, bytes: Buffer) => Buffer.concat([varint((no << 3) | 2), varint(bytes.length), bytes]);
const text = (no: number, s: string) => field(no, Buffer.from(s, 'utf8'));

/** google.rpc.Status with a google.rpc.BadRequest detail, serialized. */
export function badRequestStatus(code: grpc.status, message: string, violations: FieldViolation[]): Buffer {
  const badRequest = Buffer.concat(violations.map((v) => field(1, Buffer.concat([text(1, v.field), text(2, v.description)]))));
  const any = Buffer.concat([text(1, 'type.googleapis.com/google.rpc.BadRequest'), field(2, badRequest)]);
  return Buffer.concat([varint((1 << 3) | 0), varint(code), text(2, message), field(3, any)]);
}

const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const KAFKA_UNAVAILABLE = new Set([
  'KafkaJSConnectionError',
  'KafkaJSConnectionClosedError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSLockTimeout',
  'KafkaJSTimeout',
  'KafkaJSMetadataNotLoaded',
]);

/** A dependency that is away or too slow (Kafka, PostgreSQL, the network): worth a retry later. */
export function isUnavailable(err: unknown): boolean {
  for (let e = err as { name?: string; code?: string; message?: string; cause?: unknown; originalError?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.name && KAFKA_UNAVAILABLE.has(e.name)) return true;
    if (typeof e.code === 'string') {
      if (UNAVAILABLE_CODES.has(e.code)) return true;
      // PostgreSQL: connection exception (08), operator intervention (57P01-57P03), too many connections.
      if (/^08...$/.test(e.code) || /^57P0[123]$/.test(e.code) || e.code === '53300') return true;
    }
    if (typeof e.message === 'string' && /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error)/.test(e.message)) return true;
    e = (e.originalError ?? e.cause) as typeof e;
  }
  return false;
}

export interface MappedError {
  status: grpc.StatusObject | (Partial<grpc.StatusObject> & { code: grpc.status; details: string; metadata?: grpc.Metadata });
  /** What to log: unset for errors that are the caller's (an RpcError). */
  log?: { level: 'warn' | 'error'; errorId: string; traceId?: string };
}

/** The status a client sees for an error a handler threw, and what the log should keep. */
export function toStatus(err: unknown): MappedError {
  if (err instanceof RpcError) {
    const metadata = new grpc.Metadata();
    if (err.code === grpc.status.INVALID_ARGUMENT && err.violations.length) {
      metadata.set('grpc-status-details-bin', badRequestStatus(err.code, err.message, err.violations));
    }
    return { status: { code: err.code, details: err.message, metadata } };
  }
  const errorId = randomBytes(6).toString('hex');
  const traceId = trace.getSpan(context.active())?.spanContext().traceId;
  const ref = `error id ${errorId}${traceId ? `, trace id ${traceId}` : ''}`;
  if (isUnavailable(err)) {
    return { status: { code: grpc.status.UNAVAILABLE, details: `a dependency of the service is unavailable; try again (${ref})` }, log: { level: 'warn', errorId, traceId } };
  }
  return { status: { code: grpc.status.INTERNAL, details: `internal error (${ref}); the service log has the details` }, log: { level: 'error', errorId, traceId } };
}

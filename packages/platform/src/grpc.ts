import { readFileSync } from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { descriptorSetPath } from '@pipewright/proto';
import { setting } from './config';
import type { Logger } from './logger';
import { invalidArgument, toStatus } from './grpc-errors';
import { grpcSecuritySettings, type GrpcSecurity } from './grpc-auth';

export { grpc };

export const grpcSettings = (defaultPort: number) => ({
  GRPC_HOST: setting.string('address the gRPC server binds', { default: '0.0.0.0' }),
  GRPC_PORT: setting.port('port of the gRPC server (0 picks a free one)', { default: defaultPort }),
  GRPC_MAX_MESSAGE_BYTES: setting.int('largest gRPC message accepted or sent, in bytes', { default: 4 * 1024 * 1024, min: 1024 }),
  ...grpcSecuritySettings,
});

export { RpcError, invalidArgument, notFound, failedPrecondition, isUnavailable, toStatus, badRequestStatus, type FieldViolation } from './grpc-errors';

/** Adapts an async function to a grpc-js unary handler with error mapping and logging. */
export function unary<Req, Res>(logger: Logger, fn: (req: Req, call: grpc.ServerUnaryCall<Req, Res>) => Promise<Res>): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    fn(call.request, call).then(
      (res) => callback(null, res),
      (err: unknown) => {
        const { status, log } = toStatus(err);
        if (log) logger[log.level]({ err, method: call.getPath(), errorId: log.errorId }, log.level === 'warn' ? 'gRPC call failed: a dependency is unavailable' : 'gRPC handler failed');
        callback(status);
      },
    );
  };
}

/** A list method's page_size: 0 takes dflt; outside 0 to max is INVALID_ARGUMENT. */
export function pageSizeOf(n: number, max = 1000, dflt = 100): number {
  if (!Number.isInteger(n) || n < 0 || n > max) throw invalidArgument('page_size', `must be from 0 to ${max}`);
  return n || dflt;
}

/** A page token: the last row of a page (or where the next starts), opaque to callers. */
export const encodePageToken = (v: object): string => Buffer.from(JSON.stringify(v)).toString('base64url');

/** What encodePageToken wrote, checked; undefined for an empty token, INVALID_ARGUMENT for one no method returned. */
export function decodePageToken<T>(token: string, check: (v: unknown) => v is T): T | undefined {
  if (!token) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    v = undefined;
  }
  if (!check(v)) throw invalidArgument('page_token', 'is not a token this method returned');
  return v;
}

/**
 * Fills every method of a service definition that has no handler yet with one answering
 * UNIMPLEMENTED, so a contract can be published before all of it is built.
 */
export function withUnimplemented<D extends grpc.ServiceDefinition>(definition: D, implemented: Partial<Record<keyof D, unknown>>): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    const given = (implemented as Record<string, unknown>)[name];
    if (given) {
      impl[name] = given as grpc.UntypedHandleCall;
      continue;
    }
    const error = { code: grpc.status.UNIMPLEMENTED, details: `${method.path} is not implemented yet` };
    impl[name] = method.responseStream
      ? (call: grpc.ServerWritableStream<unknown, unknown>) => call.emit('error', Object.assign(new Error(error.details), error))
      : (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(error);
  }
  return impl;
}

/**
 * The serialized FileDescriptorProtos inside a FileDescriptorSet (field 1, repeated), as
 * they are: well-known types keep their own file names, which reflection clients resolve.
 */
export function splitDescriptorSet(set: Buffer): Buffer[] {
  const files: Buffer[] = [];
  let pos = 0;
  const varint = () => {
    let result = 0;
    let shift = 0;
    for (;;) {
      const b = set[pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
    }
  };
  while (pos < set.length) {
    const tag = varint();
    if (tag !== 0x0a) throw new Error(`unexpected field tag ${tag} in descriptor set`);
    const len = varint();
    files.push(set.subarray(pos, pos + len));
    pos += len;
  }
  return files;
}

/** The grpc.health.v1 service name that only says the process is alive. */
export const LIVENESS_SERVICE = 'liveness';

const UNREADABLE = Symbol('unreadable request');
type Unreadable = { [UNREADABLE]: string };
const unreadable = (request: unknown): request is Unreadable => typeof request === 'object' && request !== null && UNREADABLE in request;

/**
 * Bytes that are not a request of the method (not protobuf, nested deeper than the decoder's
 * stack) answer INVALID_ARGUMENT, not the INTERNAL grpc-js gives a decoding error: the request
 * reaches the handler as a marker, which is answered before the handler runs.
 */
function guarded(definition: grpc.ServiceDefinition, implementation: grpc.UntypedServiceImplementation): { definition: grpc.ServiceDefinition; implementation: grpc.UntypedServiceImplementation } {
  const def: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const impl: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition) as Array<[string, grpc.MethodDefinition<unknown, unknown>]>) {
    def[name] = {
      ...method,
      requestDeserialize: (bytes: Buffer) => {
        try {
          return method.requestDeserialize(bytes);
        } catch (err) {
          const why = err instanceof RangeError || /recursion limit/.test((err as Error).message) ? 'nested too deeply' : 'not valid protobuf';
          return { [UNREADABLE]: `the request is not a ${method.path} request (${why})` } satisfies Unreadable;
        }
      },
    };
    const handler = implementation[name];
    if (!handler || method.requestStream) {
      impl[name] = handler;
      continue;
    }
    const refuse = (details: string) => ({ code: grpc.status.INVALID_ARGUMENT, details });
    impl[name] = method.responseStream
      ? (call: grpc.ServerWritableStream<unknown, unknown>) =>
          unreadable(call.request)
            ? call.emit('error', Object.assign(new Error(call.request[UNREADABLE]), refuse(call.request[UNREADABLE])))
            : (handler as grpc.handleServerStreamingCall<unknown, unknown>)(call)
      : (call: grpc.ServerUnaryCall<unknown, unknown>, callback: grpc.sendUnaryData<unknown>) =>
          unreadable(call.request) ? callback(refuse(call.request[UNREADABLE])) : (handler as grpc.handleUnaryCall<unknown, unknown>)(call, callback);
  }
  return { definition: def, implementation: impl };
}

export interface ServiceBinding {
  /** Fully-qualified service name, e.g. pipewright.scheduler.v1.Scheduler (the health service key). */
  name: string;
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

export interface GrpcServerHandle {
  server: grpc.Server;
  port: number;
  setServing(serving: boolean): void;
  /** The liveness health service: NOT_SERVING tells the supervisor to restart the process. */
  setLive(live: boolean): void;
  /** Stops taking new calls, lets running calls finish for up to graceMs, then cancels them. */
  shutdown(graceMs: number): Promise<void>;
}

export async function startGrpcServer(opts: { host: string; port: number; maxMessageBytes: number; services: ServiceBinding[]; logger: Logger; security?: GrpcSecurity }): Promise<GrpcServerHandle> {
  const server = new grpc.Server({
    interceptors: opts.security?.interceptors ?? [],
    'grpc.max_receive_message_length': opts.maxMessageBytes,
    'grpc.max_send_message_length': opts.maxMessageBytes,
    'grpc.keepalive_time_ms': 30_000,
    'grpc.keepalive_permit_without_calls': 1,
    // Connections are recycled so that clients re-resolve and spread over new replicas.
    'grpc.max_connection_age_ms': 5 * 60_000,
    'grpc.max_connection_age_grace_ms': 30_000,
  });
  for (const s of opts.services) {
    const g = guarded(s.definition, s.implementation);
    server.addService(g.definition, g.implementation);
  }

  // '' and each service: ready (dependencies connected, not shutting down). LIVENESS_SERVICE:
  // the process answers; it stays SERVING through outages and drains, so a liveness probe
  // never restarts a pod that is only waiting for Kafka or PostgreSQL, or finishing its work.
  const names = ['', ...opts.services.map((s) => s.name)];
  const health = new HealthImplementation({
    ...Object.fromEntries(names.map((n) => [n, 'NOT_SERVING' as const])),
    [LIVENESS_SERVICE]: 'SERVING' as const,
  });
  health.addToServer(server);

  // Reflection serves descriptors built by buf: well-known types included, which grpcurl needs
  // to resolve fields such as google.protobuf.Struct, and the health service's too, compiled
  // from its own proto file (descriptors rebuilt from a proto-loader definition name map entry
  // types in a way strict clients refuse).
  const definitions = {
    'pipewright.descriptors': { fileDescriptorProtos: splitDescriptorSet(readFileSync(descriptorSetPath)) },
  } as unknown as protoLoader.PackageDefinition;
  // Only the services this server runs (and health) are listed, as `grpcurl list` should show.
  new ReflectionService(definitions, { services: ['grpc.health.v1.Health', ...opts.services.map((s) => s.name)] }).addToServer(server);

  const credentials = opts.security?.credentials ?? grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((res, rej) => server.bindAsync(`${opts.host}:${opts.port}`, credentials, (err, p) => (err ? rej(err) : res(p))));
  opts.logger.info({ port, services: opts.services.map((s) => s.name), ...(opts.security?.describe ?? { tls: 'off', auth: 'off' }) }, 'gRPC server listening');

  return {
    server,
    port,
    setServing(serving) {
      for (const n of names) health.setStatus(n, serving ? 'SERVING' : 'NOT_SERVING');
    },
    setLive(live) {
      health.setStatus(LIVENESS_SERVICE, live ? 'SERVING' : 'NOT_SERVING');
    },
    shutdown(graceMs) {
      return new Promise((res) => {
        const timer = setTimeout(() => {
          server.forceShutdown();
          res();
        }, graceMs);
        server.tryShutdown(() => {
          clearTimeout(timer);
          res();
        });
      });
    },
  };
}

// The HTTP/JSON door: the gRPC methods that carry google.api.http rules, served as JSON over
// HTTP. Routes and the JSON form of every message come from the descriptors (the rules in
// proto/), never from a table kept by hand. A call runs in this process (a service's own
// implementation, behind the same bearer-token check as its gRPC server) or goes to the owning
// service over gRPC with the caller's `authorization` header, so the scopes apply there.
// gRPC statuses become HTTP ones, with a google.rpc.Status JSON body:
//   {"code": 3, "message": "app_name: is required", "details": [{"@type":
//    "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [{"field": "app_name", ...}]}]}
// Server-streaming methods answer newline-delimited JSON, {"result": ...} per message and
// {"error": {...}} if the stream fails.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { EventEmitter } from 'node:events';
import * as grpc from '@grpc/grpc-js';
import * as generated from '@pipewright/proto';
import { descriptorJsonPath, openapiPath } from '@pipewright/proto';
import type { Logger } from './logger';
import { prom } from './metrics';
import { inSpan, restoreTraceContext, SpanKind, tracingEnabled } from './telemetry';
import { Authenticator, grpcAuthOn, scopeOf, type GrpcSecurityConfig } from './grpc-auth';
import { FieldError, ProtoTypes, type DescriptorSet } from './proto-json';
import { requestOf, routesOf, type Route } from './http-rules';

export interface DoorService {
  /** Fully-qualified gRPC service name: pipewright.scheduler.v1.Scheduler. */
  name: string;
  /** The grpc-js service definition (ts-proto's XxxService), whose serializers are used; default: the one @pipewright/proto generated for name. */
  definition?: grpc.ServiceDefinition;
  /** Calls go to the owning service through this client (any grpc-js client of it)... */
  client?: grpc.Client;
  /** ...or run here, on the service's own implementation. */
  implementation?: grpc.UntypedServiceImplementation;
}

export interface HttpDoorOptions {
  services: DoorService[];
  logger: Logger;
  /** For in-process methods: checks the caller as the gRPC server would; rejects with a { code, details } status. */
  authorize?: (path: string, metadata: grpc.Metadata) => Promise<void>;
  /** Default: @pipewright/proto's descriptors.json. */
  descriptors?: DescriptorSet;
  /** The OpenAPI document served at /openapi.json; default @pipewright/proto's openapi.json, false for none. */
  openapi?: string | false;
  /** Deadline of a forwarded unary call; default 30 s. */
  deadlineMs?: number;
  /** Largest request body; default 4 MiB. */
  maxBodyBytes?: number;
  /** Where http_requests_total and http_request_duration_seconds are registered (by method, route and status). */
  registry?: prom.Registry;
}

export interface DoorRoute {
  method: string;
  template: string;
  /** /pipewright.scheduler.v1.Scheduler/GetJob */
  rpc: string;
  streaming: boolean;
}

export interface HttpDoor {
  /** The routes served, most specific first. */
  routes: DoorRoute[];
  /** Answers a request for a route (or /openapi.json) and resolves true; false, writing nothing, for any other path. */
  handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean>;
}

/** HTTP status of a gRPC status code (grpc-gateway's table, with FAILED_PRECONDITION as 409). */
export function httpStatusOf(code: grpc.status): number {
  const table: Record<number, number> = {
    [grpc.status.OK]: 200,
    [grpc.status.CANCELLED]: 499,
    [grpc.status.UNKNOWN]: 500,
    [grpc.status.INVALID_ARGUMENT]: 400,
    [grpc.status.DEADLINE_EXCEEDED]: 504,
    [grpc.status.NOT_FOUND]: 404,
    [grpc.status.ALREADY_EXISTS]: 409,
    [grpc.status.PERMISSION_DENIED]: 403,
    [grpc.status.RESOURCE_EXHAUSTED]: 429,
    [grpc.status.FAILED_PRECONDITION]: 409,
    [grpc.status.ABORTED]: 409,
    [grpc.status.OUT_OF_RANGE]: 400,
    [grpc.status.UNIMPLEMENTED]: 501,
    [grpc.status.INTERNAL]: 500,
    [grpc.status.UNAVAILABLE]: 503,
    [grpc.status.DATA_LOSS]: 500,
    [grpc.status.UNAUTHENTICATED]: 401,
  };
  return table[code] ?? 500;
}

// --- google.rpc.Status from grpc-status-details-bin, read with a minimal protobuf reader.

function* fieldsOf(buf: Buffer): Generator<{ no: number; value: number | Buffer }> {
  let pos = 0;
  const varint = () => {
    let result = 0;
    for (let shift = 0; ; shift += 7) {
      const b = buf[pos++];
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80 || pos >= buf.length) return result;
    }
  };
  while (pos < buf.length) {
    const tag = varint();
    const wire = tag & 7;
    const no = Math.floor(tag / 8);
    if (wire === 0) yield { no, value: varint() };
    else if (wire === 2) {
      const len = varint();
      yield { no, value: buf.subarray(pos, pos + len) };
      pos += len;
    } else if (wire === 1) pos += 8;
    else if (wire === 5) pos += 4;
    else return;
  }
}

type Detail = Record<string, unknown>;

/** The details of a status (google.rpc.Any), BadRequest's field violations spelled out. */
export function statusDetails(bin: Buffer | undefined): Detail[] {
  if (!bin) return [];
  const details: Detail[] = [];
  for (const f of fieldsOf(bin)) {
    if (f.no !== 3 || !Buffer.isBuffer(f.value)) continue;
    let typeUrl = '';
    let value: Buffer = Buffer.alloc(0);
    for (const a of fieldsOf(f.value)) {
      if (a.no === 1 && Buffer.isBuffer(a.value)) typeUrl = a.value.toString('utf8');
      if (a.no === 2 && Buffer.isBuffer(a.value)) value = a.value;
    }
    if (typeUrl.endsWith('/google.rpc.BadRequest')) {
      const fieldViolations = [...fieldsOf(value)]
        .filter((v) => v.no === 1 && Buffer.isBuffer(v.value))
        .map((v) => {
          const out = { field: '', description: '' };
          for (const x of fieldsOf(v.value as Buffer)) {
            if (x.no === 1 && Buffer.isBuffer(x.value)) out.field = x.value.toString('utf8');
            if (x.no === 2 && Buffer.isBuffer(x.value)) out.description = x.value.toString('utf8');
          }
          return out;
        });
      details.push({ '@type': typeUrl, fieldViolations });
    } else details.push({ '@type': typeUrl, value: value.toString('base64') });
  }
  return details;
}

interface Status {
  code: grpc.status;
  details?: string;
  metadata?: grpc.Metadata;
}

const BAD_REQUEST = 'type.googleapis.com/google.rpc.BadRequest';

/** The JSON body of a status: google.rpc.Status. */
export function statusBody(s: Status): { code: number; message: string; details: Detail[] } {
  const bin = s.metadata?.get('grpc-status-details-bin')[0];
  return { code: s.code, message: s.details ?? '', details: statusDetails(Buffer.isBuffer(bin) ? bin : undefined) };
}

const fieldStatus = (err: FieldError) => ({
  code: grpc.status.INVALID_ARGUMENT,
  message: err.message,
  details: [{ '@type': BAD_REQUEST, fieldViolations: [{ field: err.field, description: err.problem }] }],
});

/** A status this door decides itself (the caller's credentials, a method not implemented here). */
class StatusError extends Error {
  constructor(
    readonly code: grpc.status,
    readonly details: string,
  ) {
    super(details);
  }
}

/** Most levels of objects and arrays in a body: deeper ones overflow the encoders' stacks. */
const MAX_DEPTH = 100;

/** How deeply a parsed JSON value nests (walked without recursion), up to limit + 1. */
function depthOf(value: unknown, limit: number): number {
  let deepest = 0;
  const stack: Array<[unknown, number]> = [[value, 1]];
  while (stack.length) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    deepest = Math.max(deepest, d);
    if (deepest > limit) return deepest;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return deepest;
}

class HttpProblem extends Error {
  constructor(
    readonly http: number,
    readonly code: grpc.status,
    message: string,
    /** The connection closes after the answer (the request was not read to its end). */
    readonly options: { closes?: boolean } = {},
  ) {
    super(message);
  }
}

/**
 * The body, up to max bytes. Past that it stops reading and rejects with a 413 that closes the
 * connection: the rest of the body is never read, and the socket is destroyed once the answer
 * is written.
 */
function readBody(req: http.IncomingMessage, max: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (c: Buffer) => {
      size += c.length;
      if (size <= max) return void chunks.push(c);
      req.off('data', onData);
      req.pause();
      reject(new HttpProblem(413, grpc.status.RESOURCE_EXHAUSTED, `the request body is over ${max} bytes`, { closes: true }));
    };
    req.on('data', onData);
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/** What of the HTTP request goes along as gRPC metadata: the caller's credentials and trace. */
function forwardedHeaders(req: http.IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of ['authorization', 'traceparent', 'tracestate']) {
    const v = req.headers[name];
    if (typeof v === 'string' && v) out[name] = v;
  }
  return out;
}

function metadataOf(req: http.IncomingMessage): grpc.Metadata {
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(forwardedHeaders(req))) md.set(k, v);
  return md;
}

/** A unary call on an implementation in this process, as grpc-js would make it. */
function callHere(handler: grpc.handleUnaryCall<unknown, unknown>, path: string, request: unknown, metadata: grpc.Metadata, peer: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const call = Object.assign(new EventEmitter(), {
      request,
      metadata,
      cancelled: false,
      getPeer: () => peer,
      getPath: () => path,
      getDeadline: () => Infinity,
      getHost: () => 'localhost',
      sendMetadata: () => undefined,
    }) as unknown as grpc.ServerUnaryCall<unknown, unknown>;
    handler(call, (err, value) => (err ? reject(Object.assign(new Error(err.details ?? ''), err)) : resolve(value)));
  });
}

/** The grpc-js definition ts-proto generated for a service (in @pipewright/proto), by its full name. */
export function serviceDefinition(name: string): grpc.ServiceDefinition {
  for (const ns of Object.values(generated)) {
    if (typeof ns !== 'object' || ns === null) continue;
    for (const value of Object.values(ns as Record<string, unknown>)) {
      if (typeof value !== 'object' || value === null) continue;
      const first = Object.values(value as Record<string, unknown>)[0] as { path?: unknown; requestSerialize?: unknown } | undefined;
      if (typeof first?.path === 'string' && typeof first.requestSerialize === 'function' && first.path.startsWith(`/${name}/`)) return value as grpc.ServiceDefinition;
    }
  }
  throw new Error(`@pipewright/proto has no service ${name}`);
}

/** Builds the door over the given services; only routes of those services are served. */
export function httpDoor(opts: HttpDoorOptions): HttpDoor {
  const set = opts.descriptors ?? (JSON.parse(readFileSync(descriptorJsonPath, 'utf8')) as DescriptorSet);
  const types = new ProtoTypes(set);
  const byName = new Map(opts.services.map((s) => [s.name, { ...s, definition: s.definition ?? serviceDefinition(s.name) }]));
  const routes = routesOf(set).filter((r) => byName.has(r.service));
  const openapi = opts.openapi === false ? undefined : (opts.openapi ?? openapiPath);
  const deadlineMs = opts.deadlineMs ?? 30_000;
  const maxBody = opts.maxBodyBytes ?? 4 * 1024 * 1024;
  const log = opts.logger.child({ component: 'http-door' });
  const registers = opts.registry ? [opts.registry] : [];
  const requests = new prom.Counter({
    name: 'http_requests_total',
    help: "HTTP/JSON door requests, by method, route (the rule's template) and HTTP status",
    labelNames: ['method', 'route', 'status'],
    registers,
  });
  const duration = new prom.Histogram({
    name: 'http_request_duration_seconds',
    help: 'HTTP/JSON door requests until the answer is written (a stream: until it ends), by method and route',
    labelNames: ['method', 'route'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });

  const methodOf = (route: Route) => {
    const service = byName.get(route.service) as DoorService & { definition: grpc.ServiceDefinition };
    const entry = Object.entries(service.definition).find(([, d]) => d.path === route.path);
    if (!entry) throw new Error(`${route.path} is not in the service definition given for ${route.service}`);
    return { key: entry[0], def: entry[1] as grpc.MethodDefinition<unknown, unknown>, service };
  };

  const send = (res: http.ServerResponse, status: number, body: unknown, headers: http.OutgoingHttpHeaders = {}) => {
    const text = JSON.stringify(body);
    res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text), ...headers }).end(text);
  };
  const sendStatus = (res: http.ServerResponse, s: Status) => send(res, httpStatusOf(s.code), statusBody(s));

  const unaryCall = async (route: Route, request: unknown, metadata: grpc.Metadata, peer: string): Promise<unknown> => {
    const { key, def, service } = methodOf(route);
    if (service.implementation) {
      if (opts.authorize) await opts.authorize(route.path, metadata);
      const handler = service.implementation[key] as grpc.handleUnaryCall<unknown, unknown> | undefined;
      if (!handler) throw new StatusError(grpc.status.UNIMPLEMENTED, `${route.path} is not implemented`);
      return callHere(handler, route.path, request, metadata, peer);
    }
    const client = service.client as grpc.Client;
    return new Promise((resolve, reject) =>
      client.makeUnaryRequest(route.path, def.requestSerialize, def.responseDeserialize, request, metadata, { deadline: Date.now() + deadlineMs }, (err, value) =>
        err ? reject(err) : resolve(value),
      ),
    );
  };

  const responseJson = (route: Route, value: unknown) => {
    const json = types.toJson(route.outputType, value as Record<string, unknown>);
    return route.responseBody ? json[types.field(route.outputType, route.responseBody)?.jsonName ?? route.responseBody] : json;
  };

  const stream = (route: Route, request: unknown, metadata: grpc.Metadata, req: http.IncomingMessage, res: http.ServerResponse) => {
    const { def, service } = methodOf(route);
    if (!service.client) throw new HttpProblem(501, grpc.status.UNIMPLEMENTED, `${route.path} streams: it is served through a client of ${route.service}`);
    const call = service.client.makeServerStreamRequest(route.path, def.requestSerialize, def.responseDeserialize, request, metadata, {});
    let started = false;
    const start = () => {
      if (started) return;
      started = true;
      res.writeHead(200, { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' });
    };
    res.on('close', () => call.cancel());
    call.on('data', (m: unknown) => {
      start();
      res.write(`${JSON.stringify({ result: responseJson(route, m) })}\n`);
    });
    call.on('error', (err: grpc.ServiceError) => {
      if (err.code === grpc.status.CANCELLED && req.destroyed) return;
      if (!started) return sendStatus(res, err);
      res.end(`${JSON.stringify({ error: statusBody(err) })}\n`);
    });
    call.on('end', () => {
      start();
      res.end();
    });
  };

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://door');
    } catch {
      // A request target node:http let through that is not a URL path (GET //[ HTTP/1.1).
      send(res, 400, { code: grpc.status.INVALID_ARGUMENT, message: `the request target ${JSON.stringify(req.url)} is not a URL path`, details: [] });
      return true;
    }
    const method = (req.method ?? 'GET').toUpperCase();
    if (url.pathname === '/openapi.json' && openapi) {
      if (method !== 'GET') return (send(res, 405, { code: grpc.status.UNIMPLEMENTED, message: 'GET /openapi.json only', details: [] }), true);
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(readFileSync(openapi));
      return true;
    }
    const matching = routes.map((r) => ({ r, m: r.regex.exec(url.pathname) })).filter((x): x is { r: Route; m: RegExpExecArray } => x.m !== null);
    if (matching.length === 0) return false;
    const hit = matching.find((x) => x.r.method === method);
    const t0 = Date.now();
    const labels = { method, route: hit?.r.template ?? matching[0].r.template };
    const timer = duration.startTimer(labels);
    res.once('close', () => {
      timer();
      requests.inc({ ...labels, status: String(res.statusCode) });
    });
    // A span of the caller's trace (traceparent), in which the call's own spans and messages go.
    // (The propagator reads only traceparent and tracestate of these.)
    const parent = tracingEnabled() ? restoreTraceContext(forwardedHeaders(req)) : undefined;
    const traced = (work: () => Promise<void>) =>
      parent ? inSpan(`${method} ${labels.route}`, work, parent, { 'http.request.method': method, 'http.route': labels.route, 'url.path': url.pathname }, SpanKind.SERVER) : work();
    await traced(async () => {
      try {
        if (!hit) {
          res.setHeader('allow', [...new Set(matching.map((x) => x.r.method))].join(', '));
          throw new HttpProblem(405, grpc.status.UNIMPLEMENTED, `${method} is not served on ${url.pathname}; use ${[...new Set(matching.map((x) => x.r.method))].join(' or ')}`);
        }
        const { r: route, m } = hit;
        let body: unknown;
        if (route.body) {
          // Read as JSON whatever its content type says, as grpc-gateway does: `curl -d` sends
          // JSON labelled application/x-www-form-urlencoded.
          const raw = await readBody(req, maxBody);
          if (raw.length) {
            try {
              body = JSON.parse(raw.toString('utf8'));
            } catch (err) {
              throw new HttpProblem(400, grpc.status.INVALID_ARGUMENT, `the body is not JSON: ${(err as Error).message}`);
            }
            if (depthOf(body, MAX_DEPTH) > MAX_DEPTH) throw new HttpProblem(400, grpc.status.INVALID_ARGUMENT, `the body nests objects and arrays deeper than ${MAX_DEPTH} levels`);
          }
        }
        const request = requestOf(types, route, m, url.searchParams, body);
        const metadata = metadataOf(req);
        if (route.serverStreaming) {
          stream(route, request, metadata, req, res);
          return;
        }
        const value = await unaryCall(route, request, metadata, `${req.socket.remoteAddress}:${req.socket.remotePort}`);
        send(res, 200, responseJson(route, value));
        log.debug({ method, path: url.pathname, rpc: route.path, ms: Date.now() - t0 }, 'http call');
      } catch (err) {
        if (err instanceof FieldError) send(res, 400, fieldStatus(err));
        else if (err instanceof HttpProblem && err.options.closes) {
          res.once('finish', () => req.destroy());
          send(res, err.http, { code: err.code, message: err.message, details: [] }, { connection: 'close' });
        } else if (err instanceof HttpProblem) send(res, err.http, { code: err.code, message: err.message, details: [] });
        else if (err instanceof RangeError) send(res, 400, { code: grpc.status.INVALID_ARGUMENT, message: 'the request is nested too deeply', details: [] });
        else if (typeof (err as Status)?.code === 'number') sendStatus(res, err as Status);
        else {
          log.error({ err, method, path: url.pathname }, 'HTTP call failed');
          send(res, 500, { code: grpc.status.INTERNAL, message: 'internal error; the service log has the details', details: [] });
        }
      }
    });
    return true;
  };

  return { routes: routes.map((r) => ({ method: r.method, template: r.template, rpc: r.path, streaming: r.serverStreaming })), handle };
}

/**
 * The bearer-token check of a gRPC server (GRPC_AUTH, GRPC_TOKENS_FILE, GRPC_JWKS) for methods
 * the door runs in this process; undefined when the server checks none.
 */
export function grpcAuthorizer(config: GrpcSecurityConfig): HttpDoorOptions['authorize'] {
  if (!grpcAuthOn(config)) return undefined;
  const auth = new Authenticator(config);
  return async (path, metadata) => {
    const scope = scopeOf(path);
    if (!scope) return;
    const caller = await auth.caller(metadata).catch((err: { code?: number; message?: string }) => {
      throw new StatusError(err.code ?? grpc.status.UNAUTHENTICATED, err.message ?? 'the bearer token is not valid');
    });
    if (!caller.scopes.has(scope)) throw new StatusError(grpc.status.PERMISSION_DENIED, `this call needs the ${scope} scope`);
  };
}

/** Serves a door on its own port: any other path answers 404 in the same JSON shape. */
export async function serveHttpDoor(door: HttpDoor, { host, port, logger }: { host: string; port: number; logger: Logger }): Promise<{ port: number; close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    door.handle(req, res).then(
      (handled) => {
        if (!handled) {
          const text = JSON.stringify({ code: grpc.status.NOT_FOUND, message: `no route ${req.method} ${(req.url ?? '/').split('?')[0]}; the routes are in /openapi.json`, details: [] });
          res.writeHead(404, { 'content-type': 'application/json; charset=utf-8' }).end(text);
        }
      },
      (err: unknown) => {
        logger.error({ err, method: req.method, path: req.url }, 'HTTP request failed');
        if (res.headersSent) return void res.destroy();
        const text = JSON.stringify({ code: grpc.status.INTERNAL, message: 'internal error; the service log has the details', details: [] });
        res.writeHead(500, { 'content-type': 'application/json; charset=utf-8', connection: 'close' }).end(text);
      },
    );
  });
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  const bound = (server.address() as { port: number }).port;
  logger.info({ host, port: bound, routes: door.routes.length }, 'HTTP/JSON door listening');
  return {
    port: bound,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

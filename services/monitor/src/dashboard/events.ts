// Live figures for the pages, as server-sent events. A connection subscribes to read methods of
// the upstream services, each with its request: a server-streaming method (WatchPipeline,
// WatchConsumerLag, WatchAggregates) is followed as its gRPC stream, opened again after a
// failure; any other is asked again every MONITOR_DASHBOARD_REFRESH and sent when its answer
// changed. Requests and answers are in the proto3 JSON mapping of the HTTP/JSON door (the same
// descriptors, the same JSON as its routes). Each event is named by its subscription's id; its
// data is the answer, {"error": google.rpc.Status and the service} when the call failed, or
// {"end": true} when a stream ended. A browser that reads more slowly than the answers come has
// its connection closed once more than MAX_BUFFERED_BYTES of them wait for it (its EventSource
// connects again and starts from the current figures), so the monitor holds at most that and one
// answer for it.
import { readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { FieldError, ProtoTypes, grpc, routesOf, scopeOf, serviceDefinition, statusBody, type DescriptorSet, type Route } from '@pipewright/platform';
import { descriptorJsonPath } from '@pipewright/proto';
import { UPSTREAMS, type Upstreams } from './upstream';

const MAX_SUBSCRIPTIONS = 12;
const HEARTBEAT_MS = 15_000;
const RETRY_MS = 2_000;
const DEADLINE_MS = 10_000;
/** Most bytes of events waiting for one browser before its connection is closed. */
export const MAX_BUFFERED_BYTES = 1 << 20;

interface Method {
  route: Route;
  def: grpc.MethodDefinition<unknown, unknown>;
  /** Undefined when MONITOR_SERVICES has no address for the method's service. */
  client?: grpc.Client;
}

export interface Subscription {
  id: string;
  method: Method;
  request: unknown;
}

export class LiveReads {
  private readonly types: ProtoTypes;
  /** Read methods of the upstream services, by gRPC path (/pipewright.monitor.v1.Monitor/GetOverview). */
  private readonly methods = new Map<string, Method>();

  constructor(
    private readonly upstreams: Upstreams,
    private readonly refreshMs: number,
  ) {
    const set = JSON.parse(readFileSync(descriptorJsonPath, 'utf8')) as DescriptorSet;
    this.types = new ProtoTypes(set);
    const served = new Set(Object.values(UPSTREAMS));
    for (const route of routesOf(set)) {
      if (!served.has(route.service) || scopeOf(route.path) !== 'read' || this.methods.has(route.path)) continue;
      const client = upstreams.clients.get(route.service);
      const def = Object.values(serviceDefinition(route.service)).find((d) => d.path === route.path) as grpc.MethodDefinition<unknown, unknown>;
      this.methods.set(route.path, { route, def, client });
    }
  }

  /** The subscriptions of `?subscribe=[{"id","rpc","request"}]`; throws saying what is wrong. */
  parse(raw: string | null): Subscription[] {
    let list: unknown;
    try {
      list = JSON.parse(raw ?? '');
    } catch {
      throw new Error('subscribe: must be a JSON list of {id, rpc, request}');
    }
    if (!Array.isArray(list) || list.length === 0 || list.length > MAX_SUBSCRIPTIONS) throw new Error(`subscribe: must list 1 to ${MAX_SUBSCRIPTIONS} subscriptions`);
    return list.map((s: { id?: unknown; rpc?: unknown; request?: unknown }, i) => {
      if (typeof s?.id !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(s.id)) throw new Error(`subscribe[${i}].id: must be a short name`);
      const method = typeof s.rpc === 'string' ? this.methods.get(s.rpc) : undefined;
      if (!method) throw new Error(`subscribe[${i}].rpc: must be a read method of ${Object.keys(UPSTREAMS).join(', ')}, such as /pipewright.monitor.v1.Monitor/GetOverview`);
      try {
        return { id: s.id, method, request: this.types.fromJson(method.route.inputType, s.request ?? {}) };
      } catch (err) {
        if (err instanceof FieldError) throw new Error(`subscribe[${i}].request.${err.field}: ${err.problem}`);
        throw err;
      }
    });
  }

  /**
   * Serves one event stream until the browser goes away, or it falls behind, or the function
   * returned is called (which ends the stream); `metadata` is who the calls are made for.
   */
  serve(req: IncomingMessage, res: ServerResponse, subs: Subscription[], metadata: () => grpc.Metadata): () => void {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' });
    res.write('retry: 2000\n\n');
    let closed = false;
    let heartbeat: NodeJS.Timeout | undefined;
    const cancels: Array<() => void> = [];
    const timers = new Set<NodeJS.Timeout>();
    const later = (fn: () => void, ms: number) => {
      const t = setTimeout(() => {
        timers.delete(t);
        fn();
      }, ms);
      timers.add(t);
    };
    const write = (text: string) => {
      if (closed) return;
      // Behind: the browser has not taken what was written before. One answer bigger than the
      // cap still goes to a browser that keeps up.
      const behind = res.writableNeedDrain;
      res.write(text);
      if (behind && res.writableLength > MAX_BUFFERED_BYTES) close(true);
    };
    const send = (id: string, data: unknown) => write(`event: ${id}\ndata: ${JSON.stringify(data)}\n\n`);
    const failure = (m: Method, err: grpc.ServiceError) => ({ error: { ...statusBody(err), service: this.upstreams.names.get(m.route.service) } });

    for (const { id, method, request } of subs) {
      const { route, def, client } = method;
      if (!client) {
        const name = Object.keys(UPSTREAMS).find((k) => UPSTREAMS[k] === route.service);
        send(id, { error: { code: grpc.status.UNAVAILABLE, message: `the monitor has no address for the ${name} (MONITOR_SERVICES does not name it)`, details: [], service: name } });
        continue;
      }
      const json = (value: unknown) => this.types.toJson(route.outputType, value as Record<string, unknown>);
      if (route.serverStreaming) {
        let call: grpc.ClientReadableStream<unknown> | undefined;
        cancels.push(() => call?.cancel());
        const open = () => {
          if (closed) return;
          let failed = false;
          call = client.makeServerStreamRequest(route.path, def.requestSerialize, def.responseDeserialize, request, metadata());
          call.on('data', (m: unknown) => send(id, json(m)));
          call.on('error', (err: grpc.ServiceError) => {
            failed = true;
            if (closed || err.code === grpc.status.CANCELLED) return;
            send(id, failure(method, err));
            later(open, RETRY_MS);
          });
          call.on('end', () => !failed && send(id, { end: true }));
        };
        open();
      } else {
        let last = '';
        const poll = () => {
          if (closed) return;
          client.makeUnaryRequest(route.path, def.requestSerialize, def.responseDeserialize, request, metadata(), { deadline: Date.now() + DEADLINE_MS }, (err, value) => {
            const data = err ? failure(method, err) : json(value);
            const text = JSON.stringify(data);
            if (text !== last) send(id, data);
            last = text;
            later(poll, this.refreshMs);
          });
        };
        poll();
      }
    }
    if (!closed) heartbeat = setInterval(() => write(': keep-alive\n\n'), HEARTBEAT_MS);
    function close(behind = false): void {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      for (const t of timers) clearTimeout(t);
      for (const cancel of cancels) cancel();
      if (behind) res.destroy();
      else if (!res.writableEnded) res.end();
    }
    req.on('close', () => close());
    res.on('close', () => close());
    return () => close();
  }
}

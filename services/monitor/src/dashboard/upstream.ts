// The gRPC services the dashboard is built on — the monitor's own API, the scheduler's, the order
// aggregator's and the stock processor's — at the addresses of MONITOR_SERVICES (the monitor
// itself on its own port when it is not listed), one grpc-js client each, with the monitor's
// channel credentials (GRPC_CALL_*). Who a call is made for is in its metadata.
import { service } from '@pipewright/contracts';
import { grpc, type CallCredentials } from '@pipewright/platform';
import { serviceAddresses, type Config } from '../config';

/** The services the dashboard is built on, by their services.json (and MONITOR_SERVICES) names. */
const DASHBOARD_SERVICES = ['monitor', 'scheduler', 'order-aggregator', 'stock-processor'];

/** The gRPC service each upstream serves, from services.json. */
export const UPSTREAMS: Readonly<Record<string, string>> = Object.fromEntries(DASHBOARD_SERVICES.map((name) => [name, service(name).grpcService]));

export class Upstreams {
  /** By gRPC service name. */
  readonly clients = new Map<string, grpc.Client>();
  /** The MONITOR_SERVICES name of each gRPC service. */
  readonly names = new Map<string, string>();

  constructor(config: Config, ownPort: number, calls: CallCredentials) {
    const addresses = new Map<string, string>();
    for (const t of serviceAddresses(config.MONITOR_SERVICES)) {
      if (UPSTREAMS[t.service] && !addresses.has(t.service)) addresses.set(t.service, `${t.host.includes(':') ? `[${t.host}]` : t.host}:${t.port}`);
    }
    if (!addresses.has('monitor')) addresses.set('monitor', `${['0.0.0.0', '::', ''].includes(config.GRPC_HOST) ? '127.0.0.1' : config.GRPC_HOST}:${ownPort}`);
    for (const [name, address] of addresses) {
      this.clients.set(UPSTREAMS[name], new grpc.Client(address, calls.channel));
      this.names.set(UPSTREAMS[name], name);
    }
  }

  close(): void {
    for (const c of this.clients.values()) c.close();
  }
}

/** Metadata carrying a bearer token. */
export function bearer(token: string): grpc.Metadata {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${token}`);
  return md;
}

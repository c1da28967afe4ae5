// The HTTP/JSON door of pipewright: the gateway's own methods run here, every other service's
// go to it over gRPC (INGEST_HTTP_UPSTREAMS) with the caller's authorization header.
import { ConfigError, grpc, grpcAuthOn, grpcAuthorizer, grpcCallCredentials, httpDoor, serveHttpDoor, type DoorService, type Logger, type Service } from '@pipewright/platform';
import { service } from '@pipewright/contracts';
import type { Config } from './config';

/** INGEST_HTTP_UPSTREAMS as gRPC service names and addresses; a malformed entry stops start-up. */
export function upstreamsOf(entries: readonly string[]): Array<{ grpcService: string; address: string }> {
  return entries.map((entry) => {
    const m = /^([a-z0-9-]+)=((?:\[[0-9a-f:]+\]|[^:=\s]+):\d{1,5})$/i.exec(entry.trim());
    if (!m) throw new ConfigError([`INGEST_HTTP_UPSTREAMS: "${entry}" is not name=host:port`]);
    try {
      return { grpcService: service(m[1]).grpcService, address: m[2] };
    } catch {
      throw new ConfigError([`INGEST_HTTP_UPSTREAMS: "${m[1]}" is not a pipewright service`]);
    }
  });
}

/**
 * The door takes no client certificates: where the gRPC servers let in only callers with one
 * (GRPC_TLS_CLIENT_CA) and check no bearer token, it would serve the gateway's methods to anyone
 * and forward the others with the gateway's own certificate. That stops start-up, unless the
 * door is off.
 */
export function checkDoorSecurity(config: Pick<Config, 'INGEST_HTTP' | 'GRPC_TLS_CLIENT_CA' | 'GRPC_AUTH' | 'GRPC_TOKENS_FILE' | 'GRPC_JWKS'>): void {
  if (config.INGEST_HTTP && config.GRPC_TLS_CLIENT_CA && !grpcAuthOn(config)) {
    throw new ConfigError([
      'INGEST_HTTP: the HTTP/JSON door takes no client certificates, so with GRPC_TLS_CLIENT_CA and no bearer tokens it would let anyone in; set GRPC_TOKENS_FILE or GRPC_JWKS (with GRPC_AUTH auto or on), or INGEST_HTTP=false',
    ]);
  }
}

export async function startHttpDoor(svc: Service<Config>, own: { name: string; implementation: grpc.UntypedServiceImplementation }, logger: Logger): Promise<number> {
  const { config } = svc;
  const calls = grpcCallCredentials(config);
  const clients = upstreamsOf(config.INGEST_HTTP_UPSTREAMS).map((u) => ({ name: u.grpcService, client: new grpc.Client(u.address, calls.channel) }));
  const services: DoorService[] = [own, ...clients];
  const door = httpDoor({ services, logger, authorize: grpcAuthorizer(config), registry: svc.registry });
  const server = await serveHttpDoor(door, { host: config.GRPC_HOST, port: config.INGEST_HTTP_PORT, logger });
  svc.onStop('serve', 'HTTP/JSON door', () => server.close());
  svc.onStop('clients', 'HTTP/JSON door clients', async () => clients.forEach((c) => c.client.close()));
  return server.port;
}

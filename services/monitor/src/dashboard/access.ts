// Who can reach a dashboard that has no login (gRPC authentication off). Its calls then carry
// the monitor's own credentials, so anyone who reaches it acts as the monitor: a monitor whose
// gRPC trusts client certificates alone (GRPC_TLS_CLIENT_CA, no tokens) must not serve such a
// dashboard on a network address; and it answers only to the Host names it is known by (loopback
// names, MONITOR_DASHBOARD_HOSTS), so that a page of another site cannot read it through DNS
// rebinding.
import type { IncomingMessage } from 'node:http';
import { ConfigError, grpcAuthOn, type GrpcSecurityConfig } from '@pipewright/platform';

const LOOPBACK_HOST = /^(127(?:\.\d{1,3}){3}|localhost|\[::1\])(:\d+)?$/i;
const HOST_NAME = /^([a-z0-9]([a-z0-9-]*[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$|^\[[0-9a-f:.]+\]$/i;

/** Whether an address the server binds is loopback only (the local run). */
export const isLoopback = (host: string) => LOOPBACK_HOST.test(host) || host === '::1';

/** Checks MONITOR_DASHBOARD_HOSTS: host names or bracketed IPv6 addresses, without a port. */
export function checkDashboardHosts(entries: readonly string[]): void {
  for (const entry of entries) {
    if (!HOST_NAME.test(entry)) throw new Error(`"${entry}" is not a host name such as dashboard.example.com (no scheme, port or path)`);
  }
}

/** The name of a Host header, lower case and without its port: "[::1]:8080" is "[::1]". */
function nameOf(host: string): string {
  return host.toLowerCase().replace(/:\d+$/, '');
}

/**
 * Why a request to a dashboard without login is refused: its Host is neither a loopback name
 * nor one of `allowed`, so a page of some other site reached it by DNS rebinding. Undefined when
 * it may be answered.
 */
export function hostRefusal(req: IncomingMessage, allowed: readonly string[]): string | undefined {
  const host = String(req.headers.host ?? '');
  if (LOOPBACK_HOST.test(host) || (host && allowed.some((name) => name.toLowerCase() === nameOf(host)))) return undefined;
  const names = ['127.0.0.1', 'localhost', '[::1]', ...allowed];
  return `this dashboard has no login and answers only to ${names.join(', ')} (MONITOR_DASHBOARD_HOSTS names more), not to ${host || 'a request without a Host'}`;
}

type ExposureConfig = Pick<GrpcSecurityConfig, 'GRPC_AUTH' | 'GRPC_TOKENS_FILE' | 'GRPC_JWKS' | 'GRPC_TLS_CLIENT_CA'>;

/**
 * Stops start-up when the gRPC servers trust client certificates alone and the dashboard, which
 * then has no login and calls with the monitor's own certificate, would listen on `host`, an
 * address other than loopback.
 */
export function checkDashboardExposure(config: ExposureConfig, host: string, port: number): void {
  if (!config.GRPC_TLS_CLIENT_CA || grpcAuthOn(config) || isLoopback(host)) return;
  throw new ConfigError([
    `GRPC_TLS_CLIENT_CA is set and no bearer tokens are asked for, so the dashboard on ${host}:${port} would have no login and call every service with the monitor's own client certificate for anyone who reaches it: set GRPC_TOKENS_FILE or GRPC_JWKS (the dashboard then asks for a token), or MONITOR_HTTP_HOST=127.0.0.1 and reach it through a port-forward`,
  ]);
}

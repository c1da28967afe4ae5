import http from 'node:http';
import client from 'prom-client';
import { setting } from './config';
import type { Logger } from './logger';

export { client as prom };

export const metricsSettings = {
  METRICS_PORT: setting.port('port of the Prometheus /metrics endpoint (0 picks a free one)', { default: 9464 }),
};

export function createRegistry(service: string): client.Registry {
  const registry = new client.Registry();
  registry.setDefaultLabels({ service });
  client.collectDefaultMetrics({ register: registry });
  return registry;
}

/** Serves GET /metrics in the Prometheus text format. */
export async function startMetricsServer(registry: client.Registry, host: string, port: number, logger: Logger): Promise<{ port: number; close(): Promise<void> }> {
  const serve = async (req: http.IncomingMessage, res: http.ServerResponse) => {
    if (req.url?.split('?')[0] !== '/metrics') {
      res.writeHead(404).end();
      return;
    }
    try {
      const body = await registry.metrics();
      res.writeHead(200, { 'content-type': registry.contentType }).end(body);
    } catch (err) {
      res.writeHead(500).end(String(err));
    }
  };
  // serve() answers every request itself, errors included.
  const server = http.createServer((req, res) => void serve(req, res));
  await new Promise<void>((res, rej) => {
    server.once('error', rej);
    server.listen(port, host, () => res());
  });
  const actual = (server.address() as { port: number }).port;
  logger.info({ port: actual }, 'metrics endpoint listening');
  return {
    port: actual,
    close: () => new Promise((res) => server.close(() => res())),
  };
}

// The dashboard's real HTTP server in the test's own process, for the tests that need no
// browser: settings as the monitor reads them, its upstream monitor at grpcPort (nothing need
// listen there), closed when the test file ends.
import { after } from 'node:test';
import { createLogger, grpcCallCredentials, loadConfig } from '@pipewright/platform';
import { settings } from '../dist/config.js';
import { startMonitorHttp } from '../dist/http.js';

/** Starts it bound to `host` with `env`'s settings; resolves to its port and base URL. */
export async function startDashboard({ host = '127.0.0.1', grpcPort = 1, env = {} } = {}) {
  const config = loadConfig(settings, { DATABASE_URL: 'postgres://monitor@127.0.0.1:1/monitor', KAFKA_BROKERS: '127.0.0.1:1', GRPC_HOST: host, MONITOR_SERVICES: `monitor=127.0.0.1:${grpcPort}`, ...env });
  const server = await startMonitorHttp(host, 0, { config, logger: createLogger('monitor', 'fatal'), calls: grpcCallCredentials(config), grpcPort });
  after(() => server.close());
  return { port: server.port, base: `http://127.0.0.1:${server.port}` };
}

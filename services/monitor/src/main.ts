// monitor's wiring, and nothing else: settings, PostgreSQL (schema `monitor`), the producer, the
// web page and the gRPC server. Progress, lag and DLQ views are not built yet: nothing is
// consumed, the page says so, and every gRPC method answers UNIMPLEMENTED.
import { runService, withUnimplemented } from '@pipewright/platform';
import { monitorV1 } from '@pipewright/proto';
import { settings } from './config';
import { monitorHandlers } from './grpc';
import { startMonitorHttp } from './http';

void runService('monitor', settings, async (svc) => {
  await svc.postgres({ url: svc.config.DATABASE_URL, poolMax: svc.config.DATABASE_POOL_MAX, schema: 'monitor' });
  await svc.producer();
  const web = await startMonitorHttp(svc.config.GRPC_HOST, svc.config.MONITOR_HTTP_PORT, svc.logger);
  svc.onStop('serve', 'web page', () => web.close());
  await svc.serveGrpc([{ name: 'pipewright.monitor.v1.Monitor', definition: monitorV1.MonitorService, implementation: withUnimplemented(monitorV1.MonitorService, monitorHandlers()) }]);
});

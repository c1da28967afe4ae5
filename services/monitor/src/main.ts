import { runService, withUnimplemented } from '@pipewright/platform';
import { monitorV1 } from '@pipewright/proto';
import { settings } from './config';
import { startMonitorHttp } from './http';

// Progress, lag and DLQ views are not built yet: its gRPC methods answer UNIMPLEMENTED.
void runService('monitor', settings, async (svc) => {
  await svc.postgres({ url: svc.config.DATABASE_URL, poolMax: svc.config.DATABASE_POOL_MAX, schema: 'monitor' });
  await svc.producer();
  const web = await startMonitorHttp(svc.config.GRPC_HOST, svc.config.MONITOR_HTTP_PORT, svc.logger);
  svc.onStop('serve', 'web page', () => web.close());
  await svc.serveGrpc(
    [{ name: 'pipewright.monitor.v1.Monitor', definition: monitorV1.MonitorService, implementation: withUnimplemented(monitorV1.MonitorService, {}) }]
  );
});

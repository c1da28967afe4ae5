// The monitor's web page. The dashboard (progress, lag, DLQ counts) is not built yet; until it
// is, the page says so and points at what exists.
import http from 'node:http';
import type { Logger } from '@pipewright/platform';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pipewright monitor</title></head>
<body>
<h1>pipewright monitor</h1>
<p>The pipeline dashboard is not built yet. The monitor's gRPC methods answer UNIMPLEMENTED.</p>
<p>Job status: <code>pipewright.scheduler.v1.Scheduler/GetJob</code> and <code>ListJobs</code>; metrics: each service's <code>/metrics</code>.</p>
</body></html>
`;

export async function startMonitorHttp(host: string, port: number, logger: Logger): Promise<{ close(): Promise<void> }> {
  const server = http.createServer((req, res) => {
    if (req.method !== 'GET' || (req.url ?? '/').split('?')[0] !== '/') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(PAGE);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
  logger.info({ port: (server.address() as { port: number }).port }, 'monitor web page listening');
  return { close: () => new Promise((r) => server.close(() => r())) };
}

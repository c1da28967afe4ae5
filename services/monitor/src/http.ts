// The monitor's web page. The dashboard is not built yet; until it is, the page points at what
// the monitor serves over gRPC and on /metrics.
import http from 'node:http';
import type { Logger } from '@pipewright/platform';

const PAGE = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>pipewright monitor</title></head>
<body>
<h1>pipewright monitor</h1>
<p>The dashboard is not built yet. What the monitor shows is served over gRPC, <code>pipewright.monitor.v1.Monitor</code>:
<code>GetOverview</code>, <code>ListConsumerGroups</code>, <code>GetConsumerLag</code>, <code>WatchConsumerLag</code>,
<code>GetDlqCounts</code>, <code>ListDeadLetters</code>, <code>ReplayDeadLetters</code> and <code>ListRecentErrors</code>;
consumer lag is also on its <code>/metrics</code> (kafka-lag-exporter's names).</p>
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

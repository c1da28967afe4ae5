// A minimal OTLP/HTTP JSON trace receiver (POST /v1/traces), for the local run and the tests.
// Services export to it with OTEL_EXPORTER_OTLP_PROTOCOL=http/json.
import http from 'node:http';
import { appendFileSync } from 'node:fs';

export async function startOtlpReceiver({ port = 0, file } = {}) {
  const spans = [];
  const server = http.createServer((req, res) => {
    if (req.method !== 'POST' || !req.url.startsWith('/v1/')) return res.writeHead(404).end();
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (req.url.startsWith('/v1/traces')) {
        try {
          const body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
          for (const rs of body.resourceSpans ?? []) {
            const service = rs.resource?.attributes?.find((a) => a.key === 'service.name')?.value?.stringValue;
            for (const ss of rs.scopeSpans ?? []) {
              for (const s of ss.spans ?? []) {
                const span = { service, name: s.name, traceId: s.traceId, spanId: s.spanId, parentSpanId: s.parentSpanId || undefined, kind: s.kind, startTimeUnixNano: s.startTimeUnixNano, endTimeUnixNano: s.endTimeUnixNano, attributes: s.attributes, links: s.links };
                spans.push(span);
                if (file) appendFileSync(file, JSON.stringify(span) + '\n');
              }
            }
          }
        } catch {
          return res.writeHead(400).end();
        }
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  return {
    endpoint: `http://127.0.0.1:${server.address().port}`,
    spans,
    close: () => new Promise((r) => server.close(r)),
  };
}

// npm start: Kafka, PostgreSQL and all seven services on this machine, until Ctrl-C.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, SERVICES, assertBuilt, startInfrastructure, startService } from './lib/system.mjs';
import { waitServing } from './lib/clients.mjs';
import { startOtlpReceiver } from './lib/otlp-receiver.mjs';
import { freePort } from './lib/proc.mjs';

const home = process.env.PIPEWRIGHT_HOME ?? join(ROOT, '.pipewright');
const logs = join(home, 'logs');
mkdirSync(logs, { recursive: true });
const say = (m) => console.log(`[pipewright] ${m}`);

assertBuilt();
const infra = await startInfrastructure({ workDir: home, log: say });

let otlp;
let traces;
if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
  traces = `OTLP exporter at ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}`;
} else {
  const file = join(home, 'traces.jsonl');
  otlp = await startOtlpReceiver({ port: await freePort(), file });
  traces = `${file} (one span per line; set OTEL_EXPORTER_OTLP_ENDPOINT to send them to Jaeger or a collector instead)`;
}

const procs = [];
let stopping = false;
async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  say('stopping services');
  await Promise.all(procs.map((p) => p.stop()));
  say('stopping Kafka and PostgreSQL');
  await infra.stop();
  await otlp?.close();
  process.exit(code);
}
process.on('SIGINT', () => (stopping ? process.exit(130) : shutdown(0)));
process.on('SIGTERM', () => shutdown(0));

try {
  let metricsPort = Number(process.env.PIPEWRIGHT_METRICS_BASE_PORT ?? 9464);
  for (const s of SERVICES) {
    const p = await startService(s.name, {
      brokers: infra.brokers,
      databaseUrl: infra.databaseUrl,
      port: s.port,
      metricsPort: metricsPort++,
      logFile: join(logs, `${s.name}.log`),
      otlpEndpoint: otlp?.endpoint,
      env: s.name === 'monitor' ? { MONITOR_HTTP_PORT: process.env.MONITOR_HTTP_PORT ?? '8080' } : {},
    });
    let exited;
    p.child.on('exit', (code, signal) => {
      exited = `${s.name} exited (code ${code}, signal ${signal}); see ${join(logs, `${s.name}.log`)}`;
      if (!stopping) {
        say(exited);
        shutdown(1);
      }
    });
    procs.push(p);
    await waitServing(p.address, { timeoutMs: 90_000, isDead: () => exited });
  }
} catch (err) {
  say(`start failed: ${err.message}`);
  await shutdown(1);
}

say('all services are SERVING');
console.log('');
console.log('  service            gRPC               metrics');
for (const p of procs) console.log(`  ${p.name.padEnd(18)} ${p.address.padEnd(18)} http://127.0.0.1:${p.metricsPort}/metrics`);
console.log('');
console.log(`  Kafka       ${infra.brokers}`);
console.log(`  PostgreSQL  ${infra.databaseUrl}`);
console.log(`  traces      ${traces}`);
console.log(`  logs        ${logs}/<service>.log`);
console.log(`  monitor     http://127.0.0.1:${process.env.MONITOR_HTTP_PORT ?? '8080'}/`);
console.log('');
say('try: npm run schedule-demo   (Ctrl-C stops everything)');

// npm start: Kafka, PostgreSQL and all seven services on this machine, kept running until
// Ctrl-C. A process that exits unexpectedly is started again after 1 s, 2 s, 4 s, … (at most
// 30 s); each restart is shown. Ctrl-C or SIGTERM stops the services, then Kafka and
// PostgreSQL; a second one ends everything at once.
//
//   npm start -- --replicas scheduler=3,executor=2   several instances: scheduler, scheduler-2, …
//   npm start -- --free-ports                        every port chosen free (see processes.json)
//
// <home>/processes.json lists every process: name, pid, addresses and restarts.
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ROOT, SERVICES, assertBuilt, startService } from './lib/system.mjs';
import { startKafka } from './lib/kafka.mjs';
import { startPostgres } from './lib/postgres.mjs';
import { waitServing } from './lib/clients.mjs';
import { startOtlpReceiver } from './lib/otlp-receiver.mjs';
import { freePort } from './lib/proc.mjs';
import { Supervisor, describeExit } from './lib/supervisor.mjs';

const say = (m) => console.log(`[pipewright] ${m}`);
const SERVICES_GROUP = 'services';
const INFRA_GROUP = 'Kafka and PostgreSQL';

/** --replicas scheduler=3,executor=2 → Map { scheduler => 3, executor => 2 } */
function parseReplicas(values = []) {
  const counts = new Map();
  for (const item of values.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean)) {
    const m = /^([a-z-]+)=(\d+)$/.exec(item);
    if (!m) throw new UsageError(`--replicas takes service=count pairs separated by commas (scheduler=3,executor=2), not "${item}"`);
    if (!SERVICES.some((s) => s.name === m[1])) throw new UsageError(`--replicas: no service is called "${m[1]}" (services: ${SERVICES.map((s) => s.name).join(', ')})`);
    const n = Number(m[2]);
    if (n < 1 || n > 32) throw new UsageError(`--replicas ${m[1]}=${n}: the count must be between 1 and 32`);
    counts.set(m[1], n);
  }
  return counts;
}

class UsageError extends Error {}

let args;
try {
  const { values } = parseArgs({ options: { replicas: { type: 'string', multiple: true }, 'free-ports': { type: 'boolean' } } });
  args = { replicas: parseReplicas(values.replicas), freePorts: Boolean(values['free-ports']) };
} catch (err) {
  console.error(`[pipewright] ${err.message}`);
  process.exit(2);
}

const home = process.env.PIPEWRIGHT_HOME ?? join(ROOT, '.pipewright');
const logs = join(home, 'logs');
const supervisor = new Supervisor({ log: say, onChange: () => writeProcesses() });
const instances = []; // { name, service, port, metricsPort, httpPort }
let kafkaInfo;
let postgresInfo;
let otlp;
let stopping = false;
let firstSignalAt = 0;

function writeProcesses() {
  const byName = new Map(supervisor.list().map((u) => [u.name, u]));
  const row = (name, extra) => ({ name, pid: byName.get(name)?.pid ?? null, restarts: byName.get(name)?.restarts ?? 0, ...extra });
  const list = [
    ...(kafkaInfo ? [row('Kafka', { brokers: kafkaInfo.brokers })] : []),
    ...(postgresInfo ? [row('PostgreSQL', { url: postgresInfo.url, dataDir: postgresInfo.dataDir, fsync: 'on' })] : []),
    ...instances.filter((i) => byName.has(i.name)).map((i) => row(i.name, {
      service: i.service,
      grpc: `127.0.0.1:${i.port}`,
      metrics: `http://127.0.0.1:${i.metricsPort}/metrics`,
      ...(i.httpPort ? { http: `http://127.0.0.1:${i.httpPort}/` } : {}),
      log: join(logs, `${i.name}.log`),
    })),
  ];
  const file = join(home, 'processes.json');
  writeFileSync(`${file}.tmp`, `${JSON.stringify(list, null, 2)}\n`);
  renameSync(`${file}.tmp`, file);
}

async function shutdown(code) {
  if (stopping) return;
  stopping = true;
  await supervisor.stop({ onGroup: (g) => say(`stopping ${g}`) });
  await otlp?.close();
  process.exit(code);
}

function onSignal(signal) {
  if (!stopping) {
    firstSignalAt = Date.now();
    say(`${signal}: stopping (again to end everything at once)`);
    shutdown(0);
  } else if (Date.now() - firstSignalAt > 300) {
    // (Within 300 ms it is the same Ctrl-C arriving twice, through npm and the terminal.)
    say(`${signal} again: ending every process now`);
    supervisor.force();
    process.exit(130);
  }
}
process.on('SIGINT', () => onSignal('SIGINT'));
process.on('SIGTERM', () => onSignal('SIGTERM'));

/** The monitor's web page port, and every instance of the run for its overview's health checks. */
function monitorEnv(inst) {
  return {
    MONITOR_HTTP_PORT: String(inst.httpPort),
    MONITOR_SERVICES: instances.map((i) => `${i.service}=127.0.0.1:${i.port}`).join(','),
  };
}

/** The gateway's HTTP/JSON door: its port, and the services it forwards to (the first instance of each). */
function gatewayEnv(inst) {
  return {
    INGEST_HTTP_PORT: String(inst.httpPort),
    INGEST_HTTP_UPSTREAMS: SERVICES.filter((s) => s.name !== 'ingest-gateway')
      .map((s) => `${s.name}=127.0.0.1:${instances.find((i) => i.service === s.name).port}`)
      .join(','),
  };
}

function serviceUnit(inst, { brokers, databaseUrl }) {
  const logFile = join(logs, `${inst.name}.log`);
  return {
    name: inst.name,
    group: SERVICES_GROUP,
    async start({ signal }) {
      const p = await startService(inst.service, {
        brokers,
        databaseUrl,
        port: inst.port,
        metricsPort: inst.metricsPort,
        logFile,
        otlpEndpoint: otlp?.endpoint,
        env: inst.service === 'monitor' ? monitorEnv(inst) : inst.service === 'ingest-gateway' ? gatewayEnv(inst) : {},
      });
      try {
        await waitServing(p.address, {
          timeoutMs: 90_000,
          isDead: () => {
            if (signal.aborted) return 'stopping';
            const { exitCode, signalCode } = p.child;
            return (exitCode !== null || signalCode !== null) && `${inst.name} exited (${describeExit(exitCode, signalCode)}); see ${logFile}`;
          },
        });
      } catch (err) {
        await p.stop(5000);
        throw err;
      }
      return p;
    },
  };
}

async function main() {
  assertBuilt();
  mkdirSync(logs, { recursive: true });
  let brokers = process.env.KAFKA_BROKERS;
  let databaseUrl = process.env.DATABASE_URL;

  const infra = [];
  if (!brokers) {
    const ports = { port: await freePort(), controllerPort: await freePort() };
    say('starting Kafka (KRaft, single node)');
    infra.push(supervisor.add({
      name: 'Kafka',
      group: INFRA_GROUP,
      start: () => startKafka({ dataDir: join(home, 'kafka'), logFile: join(logs, 'kafka.log'), ...ports }),
    }).then((k) => { kafkaInfo = k; brokers = k.brokers; }));
  }
  if (!databaseUrl) {
    const port = await freePort();
    say('starting PostgreSQL (durable: fsync on)');
    infra.push(supervisor.add({
      name: 'PostgreSQL',
      group: INFRA_GROUP,
      start: () => startPostgres({ dataDir: join(home, 'postgres'), port, durable: true, logFile: join(logs, 'postgres.log') }),
    }).then((pg) => {
      postgresInfo = pg;
      databaseUrl = pg.url;
      if (pg.relocated) say(`PostgreSQL keeps its data in ${pg.dataDir}: the postgres user cannot reach ${home}`);
    }));
  }
  const started = await Promise.allSettled(infra);
  const failed = started.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;

  let traces;
  if (process.env.OTEL_EXPORTER_OTLP_ENDPOINT) {
    traces = `OTLP exporter at ${process.env.OTEL_EXPORTER_OTLP_ENDPOINT}`;
  } else {
    const file = join(home, 'traces.jsonl');
    otlp = await startOtlpReceiver({ port: await freePort(), file });
    traces = `${file} (one span per line; set OTEL_EXPORTER_OTLP_ENDPOINT to send them to Jaeger or a collector instead)`;
  }

  let metricsPort = Number(process.env.PIPEWRIGHT_METRICS_BASE_PORT ?? 9464);
  for (const s of SERVICES) {
    const count = args.replicas.get(s.name) ?? 1;
    for (let i = 1; i <= count; i++) {
      const first = i === 1 && !args.freePorts;
      instances.push({
        name: i === 1 ? s.name : `${s.name}-${i}`,
        service: s.name,
        port: first ? s.port : await freePort(),
        metricsPort: first ? metricsPort : await freePort(),
        httpPort:
          s.name === 'monitor'
            ? first ? Number(process.env.MONITOR_HTTP_PORT ?? 8080) : await freePort()
            : s.name === 'ingest-gateway'
              ? first ? Number(process.env.INGEST_HTTP_PORT ?? 8081) : await freePort()
              : undefined,
      });
    }
    metricsPort++;
  }
  for (const inst of instances) {
    if (stopping) return;
    await supervisor.add(serviceUnit(inst, { brokers, databaseUrl }));
  }
  if (stopping) return;

  say('all services are SERVING');
  const monitor = instances.find((i) => i.name === 'monitor');
  console.log('');
  console.log('  service            gRPC               metrics');
  for (const i of instances) console.log(`  ${i.name.padEnd(18)} ${`127.0.0.1:${i.port}`.padEnd(18)} http://127.0.0.1:${i.metricsPort}/metrics`);
  console.log('');
  console.log(`  Kafka       ${brokers}`);
  console.log(`  PostgreSQL  ${databaseUrl}${postgresInfo ? ` (fsync on; data in ${postgresInfo.dataDir})` : ''}`);
  console.log(`  traces      ${traces}`);
  console.log(`  logs        ${logs}/<service>.log`);
  console.log(`  dashboard   http://127.0.0.1:${monitor.httpPort}/   (the monitor's web dashboard: overview, jobs, stock runs, orders, lag, dead letters)`);
  const gateway = instances.find((i) => i.name === 'ingest-gateway');
  console.log(`  HTTP/JSON   http://127.0.0.1:${gateway.httpPort}/v1/jobs (every route: http://127.0.0.1:${gateway.httpPort}/openapi.json)`);
  console.log(`  processes   ${join(home, 'processes.json')}`);
  console.log('');
  say('a process that exits is started again; try: npm run schedule-demo, npm run orders-demo   (Ctrl-C stops everything)');
}

try {
  await main();
} catch (err) {
  if (!stopping) {
    // One line: what failed and what to do (a missing prerequisite says how to provide it).
    say(`${err.prerequisite ? 'cannot start' : 'start failed'}: ${err.message.split('\n')[0]}`);
    await shutdown(1);
  }
}

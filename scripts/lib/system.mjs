// Starts pipewright on one machine: Kafka and PostgreSQL (unless KAFKA_BROKERS / DATABASE_URL
// point at existing ones) and the seven services as separate processes.
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, existsSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startKafka } from './kafka.mjs';
import { startPostgres } from './postgres.mjs';
import { freePort, stopChild } from './proc.mjs';
import { SERVICE_LIST } from './services.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The seven services (packages/contracts/services.json): name, default port, whether it uses PostgreSQL, its gRPC service, topics. */
export const SERVICES = SERVICE_LIST.map((s) => ({
  ...s,
  port: s.grpcPort,
  db: s.database,
}));

// Children must not outlive the launcher or a test that crashed.
const children = new Set();
process.on('exit', () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
});

export function assertBuilt() {
  for (const s of SERVICES) {
    if (!existsSync(join(ROOT, 'services', s.name, 'dist', 'main.js'))) {
      throw new Error(`services/${s.name} is not built; run npm run build`);
    }
  }
}

/**
 * Kafka and PostgreSQL for tests and benchmarks (or the existing ones KAFKA_BROKERS and
 * DATABASE_URL name). PostgreSQL runs with fsync off unless `durable` (the local run is durable:
 * it supervises its own, see scripts/dev.mjs); the log says which.
 * @param {{ workDir: string, log?: (line: string) => void, durable?: boolean }} options
 */
export async function startInfrastructure({ workDir, log = () => {}, durable = false }) {
  mkdirSync(workDir, { recursive: true });
  const stops = [];
  let brokers = process.env.KAFKA_BROKERS;
  let databaseUrl = process.env.DATABASE_URL;
  let kafka;
  let postgres;
  try {
    if (!brokers) {
      log('starting Kafka (KRaft, single node)');
      kafka = await startKafka({ dataDir: join(workDir, 'kafka'), logFile: join(workDir, 'kafka.log') });
      brokers = kafka.brokers;
      stops.push(kafka.stop);
    }
    if (!databaseUrl) {
      log(`starting PostgreSQL (${durable ? 'durable: fsync on' : 'fsync off: fast, not durable across a machine crash'})`);
      postgres = await startPostgres({ dataDir: join(workDir, 'postgres'), durable, logFile: join(workDir, 'postgres.log') });
      if (postgres.relocated) log(`PostgreSQL data in ${postgres.dataDir} (the postgres user cannot reach ${workDir})`);
      databaseUrl = postgres.url;
      stops.push(postgres.stop);
    }
  } catch (err) {
    for (const s of stops.reverse()) await s();
    throw err;
  }
  return { brokers, databaseUrl, kafka, postgres, stop: async () => { for (const s of stops.reverse()) await s(); } };
}

/**
 * Starts one service process. env adds to (and overrides) the defaults; returns its handle.
 * Output goes to logFile (or is ignored).
 * @param {string} name
 * @param {{ brokers: string, databaseUrl?: string, env?: Record<string, string | undefined>, logFile?: string, port?: number, metricsPort?: number, otlpEndpoint?: string }} options
 */
export async function startService(name, { brokers, databaseUrl, env = {}, logFile, port, metricsPort, otlpEndpoint }) {
  port ??= await freePort();
  metricsPort ??= await freePort();
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  const usesDb = SERVICES.find((s) => s.name === name)?.db;
  const childEnv = {
    ...process.env,
    DATABASE_URL: usesDb ? databaseUrl : undefined,
    KAFKA_BROKERS: brokers,
    GRPC_HOST: '127.0.0.1',
    GRPC_PORT: String(port),
    METRICS_PORT: String(metricsPort),
    ...(name === 'monitor' ? { MONITOR_HTTP_PORT: String(env.MONITOR_HTTP_PORT ?? (await freePort())) } : {}),
    ...(name === 'ingest-gateway' ? { INGEST_HTTP_PORT: String(env.INGEST_HTTP_PORT ?? (await freePort())) } : {}),
    OTEL_SERVICE_NAME: name,
    KAFKAJS_NO_PARTITIONER_WARNING: '1',
    ...(otlpEndpoint
      ? { OTEL_EXPORTER_OTLP_ENDPOINT: otlpEndpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json', OTEL_BSP_SCHEDULE_DELAY: '200' }
      : {}),
    ...env,
  };
  if (childEnv.DATABASE_URL === undefined) delete childEnv.DATABASE_URL;
  // PIPEWRIGHT_PROFILE_DIR: every service writes a V8 CPU profile there when it exits.
  const profile = process.env.PIPEWRIGHT_PROFILE_DIR ? ['--cpu-prof', `--cpu-prof-dir=${process.env.PIPEWRIGHT_PROFILE_DIR}`, `--cpu-prof-name=${name}-${Date.now()}.cpuprofile`] : [];
  const child = spawn(process.execPath, [...profile, '--require', '@pipewright/platform/register', join('services', name, 'dist', 'main.js')], {
    cwd: ROOT,
    env: childEnv,
    stdio: ['ignore', out, out],
    // Its own process group: only the launcher signals it, once, in order.
    detached: true,
  });
  children.add(child);
  child.on('exit', () => children.delete(child));
  return { name, port, metricsPort, child, address: `127.0.0.1:${port}`, stop: (graceMs = 30_000) => stopChild(child, graceMs) };
}

// A pipewright stack for one test file: real Kafka and PostgreSQL (shared ones from the test
// runner, or started here when a file is run alone), a database of its own, and the services
// it asks for as separate processes.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { ChildProcess } from 'node:child_process';
import kafkajs from 'kafkajs';
import pg from 'pg';
import { startService } from '../../../scripts/lib/system.mjs';
import { clientFor, waitServing, type ServiceClients } from './clients.js';
import { createDatabase, startInfrastructure, testDir } from './infrastructure.js';

const { Kafka, logLevel } = kafkajs;

/** A service process as the launcher (scripts/lib/system.mjs's startService) starts it. */
export interface StartedService {
  name: string;
  port: number;
  metricsPort: number;
  child: ChildProcess;
  /** host:port of its gRPC server. */
  address: string;
  /** SIGTERM, then SIGKILL after graceMs (default 30 s); resolves with the exit code. */
  stop(graceMs?: number): Promise<number | null>;
}

/** A service process of a stack. */
export interface ServiceProcess extends StartedService {
  /** Why it exited (with the end of its log), or undefined while it runs. */
  exited(): string | undefined;
}

export interface StackOptions {
  /** Services started (in this order) before startStack resolves. */
  services?: string[];
  /** Environment of every service. */
  env?: Record<string, string>;
  /** Environment of one service by name, over `env`. */
  envFor?: Record<string, Record<string, string>>;
  /** Where every service exports its traces (OTLP over HTTP). */
  otlpEndpoint?: string;
}

export interface Stack {
  workDir: string;
  brokers: string;
  /** The stack's own database. */
  databaseUrl: string;
  /** A Kafka client on the stack's brokers. */
  kafka: kafkajs.Kafka;
  /** Running services by name (`as` for a replica). */
  procs: Map<string, ServiceProcess>;
  /** Starts a service (another replica if `as` is given; on `port`, e.g. the one it had before a restart) and waits until it reports SERVING. */
  start(name: string, options?: { as?: string; env?: Record<string, string>; port?: number }): Promise<ServiceProcess>;
  /** A running service (or replica) by name; throws if the stack has none of that name. */
  proc(name: string): ServiceProcess;
  /** host:port of a running service's gRPC server. */
  address(name: string): string;
  /** A client of a running service (of replica `as`), closed when the stack stops. */
  client<S extends keyof ServiceClients>(service: S, as?: string): ServiceClients[S];
  /** The last lines of a service's log. */
  log(name: string): string;
  /** Rows of one statement on the stack's database. */
  query<Row extends pg.QueryResultRow = any>(sql: string, params?: unknown[]): Promise<Row[]>;
  /** Closes its clients, stops its services and what it started of Kafka and PostgreSQL. */
  stop(): Promise<void>;
}

export async function startStack({ services = [], env = {}, envFor = {}, otlpEndpoint }: StackOptions = {}): Promise<Stack> {
  const infra = await startInfrastructure();
  const { workDir, brokers } = infra;
  let databaseUrl: string;
  try {
    databaseUrl = await createDatabase(infra.databaseUrl);
  } catch (err) {
    await infra.stop();
    throw err;
  }

  const kafka = new Kafka({ clientId: 'pipewright-test', brokers: brokers.split(','), logLevel: logLevel.NOTHING });
  const procs = new Map<string, ServiceProcess>();
  const opened: Array<{ close(): void }> = [];
  const proc = (name: string) => {
    const p = procs.get(name);
    if (!p) throw new Error(`${name} is not running in this stack`);
    return p;
  };
  const address = (name: string) => proc(name).address;
  const stack: Stack = {
    workDir,
    brokers,
    databaseUrl,
    kafka,
    procs,
    async start(name, { as = name, env: extra = {}, port } = {}) {
      const logFile = join(workDir, `${as}.log`);
      const started = await startService(name, { brokers, databaseUrl, logFile, port, otlpEndpoint, env: { ...env, ...(envFor[name] ?? {}), ...extra } });
      let exited: string | undefined;
      started.child.on('exit', (code, signal) => (exited = `${as} exited (code ${code}, signal ${signal}); log:\n${tail(logFile)}`));
      const p: ServiceProcess = { ...started, exited: () => exited };
      procs.set(as, p);
      await waitServing(p.address, { timeoutMs: 90_000, isDead: () => exited });
      return p;
    },
    proc,
    address,
    client(service, as = service) {
      const c = clientFor(service, address(as));
      opened.push(c);
      return c;
    },
    log: (name) => tail(join(workDir, `${name}.log`), 200),
    async query(sql, params) {
      const c = new pg.Client({ connectionString: databaseUrl });
      await c.connect();
      try {
        return (await c.query(sql, params)).rows;
      } finally {
        await c.end();
      }
    },
    async stop() {
      for (const c of opened.splice(0)) c.close();
      await Promise.all([...procs.values()].map((p) => p.stop()));
      await infra.stop();
    },
  };
  try {
    for (const s of services) await stack.start(s);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}

function tail(file: string, lines = 40): string {
  if (!existsSync(file)) return '(no log)';
  return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
}

/** An app registry (APPS_CONFIG) entry. */
export interface AppConfig {
  handler: string;
  options?: Record<string, unknown>;
}

/** Writes an app registry (APPS_CONFIG) for a test and returns its path. */
export function writeAppsFile(apps: Record<string, AppConfig>): string {
  const file = join(testDir(), `apps-${randomBytes(6).toString('hex')}.json`);
  writeFileSync(file, JSON.stringify({ apps }));
  return file;
}

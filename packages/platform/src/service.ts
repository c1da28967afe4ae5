// The life of a service process: configuration, logging, metrics, Kafka, PostgreSQL and the
// gRPC server, started in order, reported truthfully through grpc.health.v1, and stopped in
// reverse on SIGTERM (a second signal forces exit).
import { ConfigError, loadConfig, setting, type ConfigOf, type SettingsSpec } from './config';
import { createLogger, type Logger } from './logger';
import { KafkaClient, checkKafkaAccess, kafkaAccessProblem, kafkaOptionsFrom, kafkaSettings, type ConsumerHandle, type ConsumerSpec, type MessageProducer } from './kafka';
import { createPool, migrate, postgresSettings, type Pool } from './postgres';
import { grpcSettings, startGrpcServer, type GrpcServerHandle, type ServiceBinding } from './grpc';
import { checkGrpcSecuritySettings, grpcSecurity } from './grpc-auth';
import { createRegistry, metricsSettings, startMetricsServer, prom } from './metrics';
import { shutdownTelemetry } from './telemetry';

export const baseSettings = {
  LOG_LEVEL: setting.oneOf('log level', ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const, { default: 'info' }),
  SHUTDOWN_TIMEOUT: setting.duration('how long a SIGTERM may take to drain in-flight work before the process exits anyway', { default: '25s', formerly: 'SHUTDOWN_TIMEOUT_MS' }),
  ...metricsSettings,
};

/** The settings every service has; pass the service's own on top. */
export function serviceSettings<E extends SettingsSpec>(defaultGrpcPort: number, extra: E) {
  return { ...baseSettings, ...grpcSettings(defaultGrpcPort), ...kafkaSettings, ...extra };
}

export { postgresSettings };

type BaseConfig = ConfigOf<ReturnType<typeof serviceSettings<Record<never, never>>>>;

/** Stop phases, run in this order: stop taking work, stop serving, close clients. */
export type StopPhase = 'intake' | 'serve' | 'clients';
const PHASES: StopPhase[] = ['intake', 'serve', 'clients'];

export class Service<C = BaseConfig> {
  readonly registry: prom.Registry;
  private readonly stops: Array<{ phase: StopPhase; name: string; fn: () => Promise<void> }> = [];
  private readonly checks = new Map<string, () => boolean>();
  private readonly livenessChecks: Array<() => boolean> = [];
  private kafkaClient?: KafkaClient;
  private sharedProducer?: Promise<MessageProducer>;
  private grpcHandle?: GrpcServerHandle;
  private started = false;
  private stopping = false;
  private healthTimer?: NodeJS.Timeout;
  private readonly probes: Array<() => void> = [];

  constructor(
    readonly name: string,
    readonly config: C,
    readonly logger: Logger,
  ) {
    this.registry = createRegistry(name);
  }

  private get base(): BaseConfig {
    return this.config as unknown as BaseConfig;
  }

  onStop(phase: StopPhase, name: string, fn: () => Promise<void>): void {
    this.stops.push({ phase, name, fn });
  }

  /** A component that must be healthy for the service to report SERVING. */
  addReadinessCheck(name: string, check: () => boolean): void {
    this.checks.set(name, check);
  }

  /**
   * A dependency checked every intervalMs once the service has started: the service is ready
   * only while its last check succeeded within timeoutMs.
   */
  addProbe(name: string, check: () => Promise<unknown>, { intervalMs = 5000, timeoutMs = 3000 } = {}): void {
    let healthy = true;
    let running = false;
    const run = async () => {
      if (running || this.stopping) return;
      running = true;
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([check(), new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)))]);
        if (!healthy) this.logger.info({ probe: name }, 'dependency is back');
        healthy = true;
      } catch (err) {
        if (healthy) this.logger.warn({ probe: name, err: (err as Error).message }, 'dependency lost: not ready');
        healthy = false;
      } finally {
        clearTimeout(timer);
        running = false;
      }
    };
    this.probes.push(() => {
      const t = setInterval(() => void run(), intervalMs);
      t.unref();
      this.onStop('intake', `probe ${name}`, async () => clearInterval(t));
    });
    this.addReadinessCheck(name, () => healthy);
  }

  /**
   * Runs a housekeeping task every everyMs once the service has started (not twice at once),
   * logging what it did and any failure; stops with the service. A task that returns the
   * number of rows it handled is run again at once while it reports a full batch.
   */
  every(name: string, everyMs: number, task: () => Promise<number | void>, fullBatch = Infinity): void {
    let running = false;
    const run = async () => {
      if (running || this.stopping) return;
      running = true;
      try {
        let total = 0;
        for (;;) {
          const n = (await task()) ?? 0;
          total += n;
          if (n < fullBatch || this.stopping) break;
        }
        if (total) this.logger.info({ task: name, rows: total }, 'housekeeping');
      } catch (err) {
        this.logger.warn({ err, task: name }, 'housekeeping failed; trying again later');
      } finally {
        running = false;
      }
    };
    this.probes.push(() => {
      const t = setInterval(() => void run(), everyMs);
      t.unref();
      this.onStop('intake', `housekeeping ${name}`, async () => clearInterval(t));
    });
  }

  /** A PostgreSQL pool, after this service's migrations (if it has any yet) have been applied. */
  async postgres(opts: { url: string; poolMax: number; preparedStatements?: boolean; schema: string; migrationsDir?: string }): Promise<Pool> {
    const pool = createPool(opts.url, opts.poolMax, this.logger.child({ component: 'postgres' }), opts.schema, opts.preparedStatements);
    this.onStop('clients', 'postgres', () => pool.end());
    if (opts.migrationsDir) await migrate(pool, { schema: opts.schema, dir: opts.migrationsDir, logger: this.logger });
    else await pool.query('SELECT 1');
    this.addProbe('postgres', () => pool.query('SELECT 1'));
    return pool;
  }

  kafka(): KafkaClient {
    if (!this.kafkaClient) {
      const client = new KafkaClient(kafkaOptionsFrom(this.base, this.name), this.logger.child({ component: 'kafka' }));
      this.kafkaClient = client;
      this.addProbe('kafka', () => client.ping());
      this.onStop('clients', 'kafka admin', () => client.close());
    }
    return this.kafkaClient;
  }

  /** One producer per process (acks=all), closed after everything that uses it. */
  producer(): Promise<MessageProducer> {
    this.sharedProducer ??= this.kafka()
      .producer()
      .then((p) => {
        this.onStop('clients', 'kafka producer', () => p.disconnect());
        return p;
      });
    return this.sharedProducer;
  }

  private lagGroups?: Map<string, string[]>;

  /** kafka_consumer_lag{group,topic,partition}: end offset minus committed offset, read at scrape time. */
  private watchLag(groupId: string, topics: string[]): void {
    if (!this.lagGroups) {
      const groups = (this.lagGroups = new Map<string, string[]>());
      const kafka = this.kafka();
      new prom.Gauge({
        name: 'kafka_consumer_lag',
        help: 'Messages not yet committed by the consumer group, per partition',
        labelNames: ['group', 'topic', 'partition'],
        registers: [this.registry],
        async collect() {
          this.reset();
          // Over the connection the health pings keep open: a scrape opens none of its own.
          await kafka.withKeptAdmin(async (admin) => {
            for (const [group, groupTopics] of groups) {
              for (const topic of groupTopics) {
                const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(topic), admin.fetchOffsets({ groupId: group, topics: [topic] })]);
                const done = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
                for (const e of ends) {
                  const c = done.get(e.partition) ?? -1;
                  const lag = Number(e.high) - (c < 0 ? Number(e.low) : c);
                  this.set({ group, topic, partition: String(e.partition) }, Math.max(0, lag));
                }
              }
            }
          });
        },
      });
    }
    this.lagGroups.set(groupId, topics);
  }

  private consumerStats?: Map<string, ConsumerHandle['stats']>;

  /** kafka_consumer_messages_total{group,outcome}: what each consumer group of this process did. */
  private countMessages(groupId: string, stats: ConsumerHandle['stats']): void {
    if (!this.consumerStats) {
      const all = (this.consumerStats = new Map<string, ConsumerHandle['stats']>());
      new prom.Counter({
        name: 'kafka_consumer_messages_total',
        help: 'Messages consumed, by outcome: received, processed, failed (invalid or failing), sent_to_dlq, retried',
        labelNames: ['group', 'outcome'],
        registers: [this.registry],
        collect() {
          this.reset();
          for (const [group, st] of all) {
            this.inc({ group, outcome: 'received' }, st.received);
            this.inc({ group, outcome: 'processed' }, st.processed);
            this.inc({ group, outcome: 'failed' }, st.failed);
            this.inc({ group, outcome: 'sent_to_dlq' }, st.sentToDlq);
            this.inc({ group, outcome: 'retried' }, st.retries);
          }
        },
      });
    }
    this.consumerStats.set(groupId, stats);
  }

  /** Joins a consumer group; failed messages go to spec.dlqTopic through the shared producer. */
  async consume<T>(spec: ConsumerSpec<T>): Promise<ConsumerHandle> {
    const handle = await this.kafka().consume(spec, await this.producer());
    // A group that commits nothing to Kafka has no lag Kafka could tell.
    if (!(spec.handleBatch && spec.commitToKafka === false)) this.watchLag(spec.groupId, spec.topics);
    this.countMessages(spec.groupId, handle.stats);
    this.onStop('intake', `consumer ${spec.groupId}`, () => handle.stop());
    this.addReadinessCheck(`consumer ${spec.groupId}`, () => handle.isHealthy());
    this.livenessChecks.push(() => handle.isLive());
    return handle;
  }

  async serveGrpc(services: ServiceBinding[]): Promise<GrpcServerHandle> {
    const handle = await startGrpcServer({
      host: this.base.GRPC_HOST,
      port: this.base.GRPC_PORT,
      maxMessageBytes: this.base.GRPC_MAX_MESSAGE_BYTES,
      services,
      logger: this.logger,
      security: grpcSecurity(this.base, this.logger, this.registry),
    });
    this.grpcHandle = handle;
    this.onStop('serve', 'gRPC server', () => handle.shutdown(Math.max(1000, this.base.SHUTDOWN_TIMEOUT / 2)));
    return handle;
  }

  isServing(): boolean {
    if (!this.started || this.stopping) return false;
    for (const check of this.checks.values()) if (!check()) return false;
    return true;
  }

  /** Everything is wired: health follows the readiness checks from now on. */
  markStarted(): void {
    this.started = true;
    for (const startProbe of this.probes) startProbe();
    const update = () => {
      this.grpcHandle?.setServing(this.isServing());
      this.grpcHandle?.setLive(this.livenessChecks.every((live) => live()));
    };
    update();
    this.healthTimer = setInterval(update, 1000);
    this.healthTimer.unref();
    this.logger.info({ grpcPort: this.grpcHandle?.port }, `${this.name} started`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.healthTimer) clearInterval(this.healthTimer);
    this.grpcHandle?.setServing(false);
    for (const phase of PHASES) {
      for (const s of this.stops.filter((x) => x.phase === phase).reverse()) {
        const t0 = Date.now();
        try {
          await s.fn();
          this.logger.info({ step: s.name, ms: Date.now() - t0 }, 'stopped');
        } catch (err) {
          this.logger.warn({ err, step: s.name }, 'error while stopping');
        }
      }
    }
  }
}

/**
 * Runs a service: loads its settings (a missing or malformed one stops start-up with its
 * name), calls start, reports SERVING when ready, and shuts down cleanly on SIGTERM/SIGINT.
 */
export async function runService<S extends ReturnType<typeof serviceSettings<SettingsSpec>>>(name: string, settings: S, start: (svc: Service<ConfigOf<S>>) => Promise<void>): Promise<void> {
  let config: ConfigOf<S>;
  try {
    config = loadConfig(settings);
    // Settings that only make sense together are checked here too, before anything starts.
    kafkaOptionsFrom(config as unknown as BaseConfig, name);
    checkGrpcSecuritySettings(config as unknown as BaseConfig);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${name}: ${err.message}\n`);
      process.exit(78);
    }
    throw err;
  }
  const base = config as unknown as BaseConfig;
  const logger = createLogger(name, base.LOG_LEVEL);
  const svc = new Service<ConfigOf<S>>(name, config, logger);
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals += 1;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(130);
    }
    logger.info({ signal }, 'shutting down');
    const force = setTimeout(() => {
      logger.error('shutdown took longer than SHUTDOWN_TIMEOUT; exiting');
      process.exit(1);
    }, base.SHUTDOWN_TIMEOUT);
    force.unref();
    // A failing stop is an unhandled rejection: the process exits with it.
    void svc
      .stop()
      .then(() => shutdownTelemetry())
      .then(() => {
        logger.info('stopped');
        process.exit(0);
      });
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('unhandledRejection', (err) => logger.error({ err }, 'unhandled promise rejection'));

  const kafkaOptions = kafkaOptionsFrom(base, name);
  try {
    const metrics = await startMetricsServer(svc.registry, base.GRPC_HOST, base.METRICS_PORT, logger);
    svc.onStop('clients', 'metrics server', () => metrics.close());
    // A refused password or certificate stops start-up here, before anything else waits on Kafka.
    await checkKafkaAccess(kafkaOptions);
    await start(svc);
    svc.markStarted();
  } catch (err) {
    // Refused for who it is (a setting to fix) rather than failed: one line naming the setting.
    const problem = err instanceof ConfigError ? err : kafkaAccessProblem(err, kafkaOptions);
    if (problem) logger.fatal({ problems: problem.problems }, 'start-up failed: configuration');
    else logger.fatal({ err }, 'start-up failed');
    await svc.stop();
    await shutdownTelemetry();
    if (problem) process.stderr.write(`${name}: ${problem.message}\n`);
    process.exit(problem ? 78 : 1);
  }
}

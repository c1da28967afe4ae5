// monitor's wiring, and nothing else: settings, PostgreSQL (schema `monitor`), the topics it
// reads, the readers of __consumer_offsets, of the DLQ topics and of the error topics, the
// log-end offset poller, the health watcher, housekeeping, the metrics, the gRPC server and the
// web dashboard.
import { join } from 'node:path';
import { TOPICS } from '@pipewright/contracts';
import { DLQ_MAX_MESSAGE_BYTES, grpcCallCredentials, runService, withUnimplemented } from '@pipewright/platform';
import { monitorV1 } from '@pipewright/proto';
import { serviceAddresses, settings } from './config';
import { handleCommits, handleDeadLetters, handleErrorEvents, resumeOffsets } from './consumer';
import { DLQ_TOPICS, PayloadDecoder } from './dead-letters';
import { monitorHandlers } from './grpc';
import { checkDashboardExposure } from './dashboard/access';
import { startMonitorHttp } from './http';
import { LagTracker } from './lag';
import { registerLagMetrics } from './metrics';
import { CONSUMER_OFFSETS_TOPIC } from './offsets';
import { HealthWatcher } from './overview';
import { startPipeline } from './pipeline';
import { deleteOldDeadLetters, deleteOldEnds, trimRecentErrors } from './store';

/** Topics whose messages are errors: run statuses (FAILED, DEAD) and the pipeline's error topics. */
const ERROR_TOPICS = [TOPICS.jobsStatus, TOPICS.scrapingErrors, TOPICS.processingErrors];
/** The monitor's consumers reject nothing (they index what they read): this topic is never written. */
const NO_DEAD_LETTERS = 'monitor.unused-dlq';
const CLEANUP_BATCH = 5000;
const OFFSETS_GROUP = 'monitor.offsets';

void runService('monitor', settings, async (svc) => {
  const { config, logger } = svc;
  const dashboardHost = config.MONITOR_HTTP_HOST ?? config.GRPC_HOST;
  checkDashboardExposure(config, dashboardHost, config.MONITOR_HTTP_PORT);
  const pool = await svc.postgres({
    url: config.DATABASE_URL,
    poolMax: config.DATABASE_POOL_MAX,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    schema: 'monitor',
    migrationsDir: join(__dirname, '../migrations'),
  });
  const kafka = svc.kafka();
  await kafka.ensureTopics([...DLQ_TOPICS.map((topic) => ({ topic, maxMessageBytes: DLQ_MAX_MESSAGE_BYTES })), ...ERROR_TOPICS]);
  const producer = await svc.producer();
  const payloads = await PayloadDecoder.create(config.SCHEMA_REGISTRY_URL);

  const lag = new LagTracker(pool, kafka, config, logger.child({ component: 'lag' }));
  await lag.load();
  await lag.poll().catch((err: Error) => logger.warn({ err: err.message }, 'log-end offsets not read yet; trying again'));
  svc.onStop('clients', 'lag admin', () => lag.close());
  svc.every('log-end offsets', config.MONITOR_LAG_INTERVAL, () => lag.poll());
  registerLagMetrics(svc.registry, lag, config.MONITOR_CLUSTER_NAME);

  // Calls to the other services carry this service's own credentials (GRPC_CALL_*).
  const calls = grpcCallCredentials(config);
  const health = new HealthWatcher(serviceAddresses(config.MONITOR_SERVICES), Math.min(3000, config.MONITOR_HEALTH_INTERVAL), logger.child({ component: 'health' }), calls);
  void health.check().catch((err: Error) => logger.warn({ err: err.message }, 'health check failed'));
  svc.every('service health', config.MONITOR_HEALTH_INTERVAL, () => health.check());

  svc.every('old log-end offsets', 60_000, () => deleteOldEnds(pool, lag.retentionMs));
  svc.every('old dead letters', 60_000, () => deleteOldDeadLetters(pool, config.MONITOR_DLQ_RETENTION, CLEANUP_BATCH), CLEANUP_BATCH);
  svc.every('old recent errors', 60_000, () => trimRecentErrors(pool, config.MONITOR_RECENT_ERRORS));

  await lag.awaitOffsetsTopic(OFFSETS_GROUP);
  await svc.consume({
    groupId: OFFSETS_GROUP,
    topics: [CONSUMER_OFFSETS_TOPIC],
    dlqTopic: NO_DEAD_LETTERS,
    decode: (msg) => msg,
    onAssignment: resumeOffsets(pool),
    commitToKafka: false,
    handleBatch: handleCommits({ pool, lag, config }),
    partitionsConsumedConcurrently: 4,
  });
  await svc.consume({
    groupId: 'monitor.dead-letters',
    topics: [...DLQ_TOPICS],
    dlqTopic: NO_DEAD_LETTERS,
    decode: (msg) => msg,
    handleBatch: handleDeadLetters({ pool, payloads }),
    maxBatchSize: 500,
  });
  await svc.consume({
    groupId: 'monitor.errors',
    topics: ERROR_TOPICS,
    dlqTopic: NO_DEAD_LETTERS,
    decode: (msg) => msg,
    handleBatch: handleErrorEvents({ pool, logger }),
  });
  const pipeline = await startPipeline(svc, pool);

  const watches = new Set<() => void>();
  svc.onStop('intake', 'lag watchers', async () => {
    for (const stop of watches) stop();
  });
  const handlers = { ...monitorHandlers({ pool, lag, health, calls, payloads, producer, config, logger, watches, activeStockRuns: pipeline.activeRuns }), ...pipeline.handlers };
  const grpcServer = await svc.serveGrpc([{ name: 'pipewright.monitor.v1.Monitor', definition: monitorV1.MonitorService, implementation: withUnimplemented(monitorV1.MonitorService, handlers) }]);
  // The dashboard is a client of the gRPC APIs, this server's included.
  const web = await startMonitorHttp(dashboardHost, config.MONITOR_HTTP_PORT, { config, logger: logger.child({ component: 'dashboard' }), calls, grpcPort: grpcServer.port });
  svc.onStop('serve', 'web dashboard', () => web.close());
});

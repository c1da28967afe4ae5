import { join } from 'node:path';
import { DLQ_MAX_MESSAGE_BYTES, runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { executorV1 } from '@pipewright/proto';
import { settings } from './config';
import { loadRegistry, registryTopics } from './registry';
import { createRunner, EXECUTOR_ID } from './runner';
import { runStore } from './store';
import { dueRunConsumer } from './consumer';
import { ExecutorMetrics } from './metrics';
import { executorHandlers } from './grpc';

void runService('executor', settings, async (svc) => {
  const { config, logger } = svc;
  const registry = loadRegistry(config.APPS_CONFIG);
  logger.info({ apps: [...registry.keys()] }, 'app registry loaded');
  const pool = await svc.postgres({
    url: config.DATABASE_URL,
    poolMax: config.DATABASE_POOL_MAX,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    schema: 'executor',
    migrationsDir: join(__dirname, '../migrations'),
  });
  await svc.kafka().ensureTopics([TOPICS.jobsDue, TOPICS.jobsStatus, { topic: TOPICS.jobsDlq, maxMessageBytes: DLQ_MAX_MESSAGE_BYTES }, ...registryTopics(registry)]);
  const producer = await svc.producer();
  const metrics = new ExecutorMetrics(svc.registry);
  const knownTopics = new Set<string>();
  let stopping = false;
  const store = runStore(pool, EXECUTOR_ID, config.EXECUTOR_RUN_LEASE);
  // Claims of runs finished longer ago than the retention are deleted now and then.
  const retentionEvery = Math.min(60_000, Math.max(1000, config.EXECUTOR_RETENTION / 2));
  svc.every('finished run claims', retentionEvery, () => store.deleteFinished(config.EXECUTOR_RETENTION, 1000), 1000);
  const execute = createRunner({
    store,
    producer,
    registry,
    metrics,
    logger,
    defaultMaxRetries: config.EXECUTOR_DEFAULT_MAX_RETRIES,
    defaultBackoff: { initialMs: config.EXECUTOR_BACKOFF_INITIAL, multiplier: config.EXECUTOR_BACKOFF_MULTIPLIER, maxMs: config.EXECUTOR_BACKOFF_MAX },
    ensureTopic: async (topic) => {
      if (knownTopics.has(topic)) return;
      await svc.kafka().ensureTopics([topic]);
      knownTopics.add(topic);
    },
    partitionCount: (topic) => svc.kafka().partitionCount(topic),
    isStopping: () => stopping,
    leaseMs: config.EXECUTOR_RUN_LEASE,
    inlineRetryMaxMs: config.EXECUTOR_INLINE_RETRY_MAX,
    reportRunningAfterMs: config.EXECUTOR_REPORT_RUNNING_AFTER,
  });
  await svc.consume(dueRunConsumer(config, execute));
  // Stops run in reverse order within a phase: this flag is set before the consumer drains,
  // so in-flight runs hand back instead of starting another attempt.
  svc.onStop('intake', 'runner', async () => {
    stopping = true;
  });
  await svc.serveGrpc([
    { name: 'pipewright.executor.v1.Executor', definition: executorV1.ExecutorService, implementation: withUnimplemented(executorV1.ExecutorService, executorHandlers(registry, metrics, logger)) },
  ]);
});

import { join } from 'node:path';
import { runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { schedulerV1 } from '@pipewright/proto';
import { settings } from './config';
import { handleJobRequest, handleRunStatus, jobRequestDecoder, runStatusDecoder } from './consumer';
import { FiringLoop } from './firing';
import { schedulerHandlers } from './grpc';
import { SchedulerMetrics } from './metrics';
import { deleteExpiredKeys } from './store';

void runService('scheduler', settings, async (svc) => {
  const { config, logger } = svc;
  const pool = await svc.postgres({
    url: config.DATABASE_URL,
    poolMax: config.DATABASE_POOL_MAX,
    schema: 'scheduler',
    migrationsDir: join(__dirname, '../migrations'),
  });
  const metrics = new SchedulerMetrics(svc.registry);
  await svc.kafka().ensureTopics([TOPICS.jobsIngest, TOPICS.jobsIngestDlq, TOPICS.jobsDue, TOPICS.jobsStatus]);
  const producer = await svc.producer();

  const firing = new FiringLoop({
    pool,
    databaseUrl: config.DATABASE_URL,
    producer,
    logger: logger.child({ component: 'firing' }),
    metrics,
    batchSize: config.SCHEDULER_FIRE_BATCH,
    maxIdleMs: config.SCHEDULER_MAX_IDLE_MS,
    misfireThresholdMs: config.SCHEDULER_MISFIRE_THRESHOLD_MS,
    catchUpWindowMs: config.SCHEDULER_CATCH_UP_WINDOW_MS,
    runTimeoutMs: config.SCHEDULER_RUN_TIMEOUT_MS,
  });
  await firing.start();
  svc.onStop('intake', 'firing loop', () => firing.stop());

  // Idempotency keys past their window block nothing: drop them now and then.
  const housekeeping = setInterval(() => {
    deleteExpiredKeys(pool)
      .then((n) => n && logger.info({ deleted: n }, 'expired idempotency keys deleted'))
      .catch((err) => logger.warn({ err }, 'deleting expired idempotency keys failed'));
  }, 10 * 60_000);
  housekeeping.unref();
  svc.onStop('intake', 'housekeeping', async () => clearInterval(housekeeping));
  svc.addReadinessCheck('firing loop', () => firing.isHealthy());

  const ingest = await svc.consume({
    groupId: 'scheduler.ingest',
    topics: [TOPICS.jobsIngest],
    dlqTopic: TOPICS.jobsIngestDlq,
    decode: jobRequestDecoder(config),
    handle: handleJobRequest(pool, config, metrics, logger),
    partitionsConsumedConcurrently: 4,
  });
  await svc.consume({
    groupId: 'scheduler.status',
    topics: [TOPICS.jobsStatus],
    dlqTopic: TOPICS.jobsIngestDlq,
    decode: runStatusDecoder,
    handle: handleRunStatus(pool, logger),
    // Events are applied in any order (a run's row lock and the attempt/state ranks keep the
    // newest), so one event waiting for its run row to commit holds up no other.
    maxInFlight: 16,
  });

  await svc.serveGrpc(
    [{ name: 'pipewright.scheduler.v1.Scheduler', definition: schedulerV1.SchedulerService, implementation: withUnimplemented(schedulerV1.SchedulerService, schedulerHandlers(pool, metrics, ingest.stats, logger)) }]
  );
});

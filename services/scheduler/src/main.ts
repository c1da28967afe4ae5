import { join } from 'node:path';
import { DLQ_MAX_MESSAGE_BYTES, GroupPosition, runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { schedulerV1 } from '@pipewright/proto';
import { settings } from './config';
import { handleJobRequests, handleRunStatuses, jobRequestDecoder, runStatusDecoder } from './consumer';
import { FiringLoop } from './firing';
import { schedulerHandlers } from './grpc';
import { SchedulerMetrics } from './metrics';
import { refusalRecorder } from './refusals';
import { deleteExpiredKeys, deleteFinishedHistory, deleteOldRefusals, RETENTION_BATCH } from './store';

const INGEST_GROUP = 'scheduler.ingest';
const NOTHING_CONSUMED = { received: 0, processed: 0, failed: 0, sentToDlq: 0 };

void runService('scheduler', settings, async (svc) => {
  const { config, logger } = svc;
  const pool = await svc.postgres({
    url: config.DATABASE_URL,
    poolMax: config.DATABASE_POOL_MAX,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    schema: 'scheduler',
    migrationsDir: join(__dirname, '../migrations'),
  });
  const metrics = new SchedulerMetrics(svc.registry);
  await svc.kafka().ensureTopics([TOPICS.jobsIngest, { topic: TOPICS.jobsIngestDlq, maxMessageBytes: DLQ_MAX_MESSAGE_BYTES }, TOPICS.jobsDue, TOPICS.jobsStatus]);
  const producer = await svc.producer();

  const firing = new FiringLoop({
    pool,
    databaseUrl: config.DATABASE_URL,
    producer,
    logger: logger.child({ component: 'firing' }),
    metrics,
    batchSize: config.SCHEDULER_FIRE_BATCH,
    maxIdleMs: config.SCHEDULER_MAX_IDLE,
    misfireThresholdMs: config.SCHEDULER_MISFIRE_THRESHOLD,
    catchUpWindowMs: config.SCHEDULER_CATCH_UP_WINDOW,
    runTimeoutMs: config.SCHEDULER_RUN_TIMEOUT,
  });
  await firing.start();
  svc.onStop('intake', 'firing loop', () => firing.stop());

  // Idempotency keys past their window block nothing, and finished history past its retention
  // slows nothing: both are deleted now and then, in small batches.
  svc.every('expired idempotency keys', 10 * 60_000, () => deleteExpiredKeys(pool), 10_000);
  const retentionEvery = Math.min(60_000, Math.max(1000, config.SCHEDULER_RETENTION / 2));
  svc.every('finished jobs and runs', retentionEvery, () => deleteFinishedHistory(pool, config.SCHEDULER_RETENTION), RETENTION_BATCH);
  svc.every('old refusals', retentionEvery, () => deleteOldRefusals(pool, config.SCHEDULER_RETENTION), RETENTION_BATCH);
  svc.addReadinessCheck('firing loop', () => firing.isHealthy());

  const ingest = config.SCHEDULER_INGEST
    ? await svc.consume({
        groupId: INGEST_GROUP,
        topics: [TOPICS.jobsIngest],
        dlqTopic: TOPICS.jobsIngestDlq,
        // What is refused is recorded before its offset is committed: once the group has read past
        // a request, GetJob finds it stored or refused.
        onDeadLetters: refusalRecorder(pool, logger),
        decode: jobRequestDecoder(config),
        handleBatch: handleJobRequests(pool, config, metrics, logger, producer),
        maxBatchSize: config.SCHEDULER_INGEST_BATCH,
        // Requests of one key keep their partition's order; the partitions of a fetch share a
        // transaction, and while one transaction waits for PostgreSQL (and the broker, for what it
        // fires) the next is made ready and started, of other partitions.
        combinePartitions: true,
        maxConcurrentCalls: config.SCHEDULER_INGEST_TRANSACTIONS,
        partitionsConsumedConcurrently: config.KAFKA_TOPIC_PARTITIONS,
      })
    : undefined;
  if (!ingest) logger.warn({ topic: TOPICS.jobsIngest }, 'SCHEDULER_INGEST is off: this instance stores no new job requests');
  await svc.consume({
    groupId: 'scheduler.status',
    topics: [TOPICS.jobsStatus],
    dlqTopic: TOPICS.jobsIngestDlq,
    decode: runStatusDecoder,
    handleBatch: handleRunStatuses(pool, logger),
    maxBatchSize: config.SCHEDULER_STATUS_BATCH,
    // Applying events is commutative: the partitions of a fetch share one transaction.
    combinePartitions: true,
    partitionsConsumedConcurrently: config.KAFKA_TOPIC_PARTITIONS,
  });

  const position = new GroupPosition(svc.kafka(), INGEST_GROUP, TOPICS.jobsIngest);
  svc.onStop('clients', 'ingest position', () => position.close());

  await svc.serveGrpc([
    {
      name: 'pipewright.scheduler.v1.Scheduler',
      definition: schedulerV1.SchedulerService,
      implementation: withUnimplemented(schedulerV1.SchedulerService, schedulerHandlers(pool, metrics, ingest?.stats ?? NOTHING_CONSUMED, logger, position)),
    },
  ]);
});

// The scheduler's two inputs: job requests on scheduler.jobs.ingest, run progress on jobs.status.
import {
  inTraceContext,
  InvalidMessageError,
  traceHeaders,
  withTransaction,
  type BatchItem,
  type BatchOutcome,
  type InboundMessage,
  type Logger,
  type MessageProducer,
  type Pool,
} from '@pipewright/platform';
import { decodeRunStatus, JobRequestError, parseJson, readAppNames, validateJobRequest, type JobRequest, type RunStatusEvent } from '@pipewright/contracts';
import { applyRunStatuses, insertJobs, type IngestFiring } from './store';
import { publishDue } from './firing';
import { planFiring } from './plan';
import type { SchedulerMetrics } from './metrics';
import type { Config } from './config';

export function jobRequestDecoder(config: Config): (msg: InboundMessage) => JobRequest {
  const apps = readAppNames(config.APPS_CONFIG);
  return (msg) => {
    if (msg.value && msg.value.length > config.SCHEDULER_MAX_MESSAGE_BYTES) {
      throw new InvalidMessageError(`message is ${msg.value.length} bytes; the limit is ${config.SCHEDULER_MAX_MESSAGE_BYTES}`);
    }
    try {
      return validateJobRequest(parseJson(msg.value), { defaultZone: config.SCHEDULER_DEFAULT_TIMEZONE, apps });
    } catch (err) {
      throw new InvalidMessageError(err instanceof JobRequestError ? `invalid job request: ${err.message}` : (err as Error).message);
    }
  };
}

/**
 * Firing as a batch is stored (SCHEDULER_FIRE_AT_INGEST): a one-shot job already due, that its
 * misfire policy lets fire, goes to jobs.due from the storing transaction instead of waiting for
 * a firing pass.
 */
export function ingestFiring(producer: MessageProducer, config: Config, metrics: SchedulerMetrics): IngestFiring {
  const now = new Date();
  return {
    now,
    firesNow: (req, first) =>
      !req.schedule &&
      first.getTime() <= now.getTime() &&
      planFiring(
        { anchor: req.scheduledTime, dueAt: first, misfirePolicy: req.misfirePolicy, overlapPolicy: req.overlapPolicy },
        { now, hasActiveRun: false, hasPendingRun: false, misfireThresholdMs: config.SCHEDULER_MISFIRE_THRESHOLD, defaultCatchUpWindowMs: config.SCHEDULER_CATCH_UP_WINDOW, maxOccurrences: 1 },
      ).fire.length === 1,
    publish: (fired) => publishDue(producer, fired, now, metrics),
  };
}

/** Stores a fetched batch of job requests in one transaction; what has no occurrence goes to the DLQ. */
export function handleJobRequests(pool: Pool, config: Config, metrics: SchedulerMetrics, logger: Logger, producer: MessageProducer) {
  return async (items: Array<BatchItem<JobRequest>>): Promise<BatchOutcome> => {
    const outcomes = await insertJobs(
      pool,
      items.map((it) => ({ req: it.value, traceContext: traceHeaders(it.msg.headers) })),
      config.SCHEDULER_IDEMPOTENCY_WINDOW,
      config.SCHEDULER_FIRE_AT_INGEST ? ingestFiring(producer, config, metrics) : undefined,
    );
    const rejected: NonNullable<BatchOutcome['rejected']> = [];
    // A line per job only at debug (in the job's trace): at thousands of jobs a second, one
    // line per batch says what was stored.
    const perJob = logger.isLevelEnabled('debug');
    let stored = 0;
    outcomes.forEach((outcome, i) => {
      const { value: req, msg, trace } = items[i];
      if (outcome.kind === 'no-occurrence') {
        rejected.push({ msg, error: new InvalidMessageError('the schedule has no occurrence between startAt and endAt') });
      } else if (outcome.kind === 'duplicate') {
        metrics.duplicate();
        inTraceContext(trace, () =>
          logger.info({ requestId: req.requestId, idempotencyKey: req.idempotencyKey, existingJobId: outcome.jobId, reason: outcome.reason }, 'duplicate job request skipped'),
        );
      } else {
        stored += 1;
        if (perJob) inTraceContext(trace, () => logger.debug({ requestId: req.requestId, jobId: outcome.jobId, app: req.appName, scheduledTime: req.scheduledTime }, 'job scheduled'));
      }
    });
    logger.info({ stored, duplicates: items.length - stored - rejected.length, refused: rejected.length }, 'job requests stored');
    return { rejected };
  };
}

/** Applies a fetched batch of run status events in one transaction. */
export function handleRunStatuses(pool: Pool, logger: Logger) {
  return async (items: Array<BatchItem<RunStatusEvent>>): Promise<void> => {
    const applied = await withTransaction(pool, (client) =>
      applyRunStatuses(
        client,
        items.map((i) => i.value),
      ),
    );
    logger.debug({ events: items.length, applied }, 'run status events applied');
  };
}

export const runStatusDecoder = (msg: InboundMessage) => decodeRunStatus(msg.value);

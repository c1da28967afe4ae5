// The scheduler's two inputs: job requests on scheduler.jobs.ingest, run progress on jobs.status.
import { captureTraceContext, InvalidMessageError, withTransaction, type InboundMessage, type Logger, type Pool } from '@pipewright/platform';
import { decodeRunStatus, JobRequestError, parseJson, readAppNames, validateJobRequest, type JobRequest, type RunStatusEvent } from '@pipewright/contracts';
import { applyRunStatus, insertJob } from './store';
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

export function handleJobRequest(pool: Pool, config: Config, metrics: SchedulerMetrics, logger: Logger) {
  return async (req: JobRequest): Promise<void> => {
    const outcome = await withTransaction(pool, (client) =>
      insertJob(client, req, config.SCHEDULER_IDEMPOTENCY_WINDOW, captureTraceContext()),
    );
    if (outcome.kind === 'no-occurrence') {
      throw new InvalidMessageError('the schedule has no occurrence between startAt and endAt');
    }
    if (outcome.kind === 'duplicate') {
      metrics.duplicate();
      logger.info({ requestId: req.requestId, idempotencyKey: req.idempotencyKey, existingJobId: outcome.jobId, reason: outcome.reason }, 'duplicate job request skipped');
    } else {
      logger.info({ requestId: req.requestId, jobId: outcome.jobId, app: req.appName, scheduledTime: req.scheduledTime }, 'job scheduled');
    }
  };
}

export function handleRunStatus(pool: Pool, logger: Logger) {
  return async (ev: RunStatusEvent): Promise<void> => {
    const applied = await withTransaction(pool, (client) => applyRunStatus(client, ev));
    logger.debug({ runId: ev.runId, status: ev.status, attempt: ev.attempt, applied }, 'run status');
  };
}

export const runStatusDecoder = (msg: InboundMessage) => decodeRunStatus(msg.value);

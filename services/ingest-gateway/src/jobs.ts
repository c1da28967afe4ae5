// ScheduleJobRequest (gRPC) -> the JSON job request on scheduler.jobs.ingest.
import { ingestV1 } from '@pipewright/proto';
import { JobRequestError, validateJobRequest, type JobRequest, type ValidationOptions } from '@pipewright/contracts';
import { invalidArgument } from '@pipewright/platform';

const PRIORITY: Record<number, string | undefined> = {
  [ingestV1.Priority.PRIORITY_UNSPECIFIED]: undefined,
  [ingestV1.Priority.PRIORITY_HIGH]: 'high',
  [ingestV1.Priority.PRIORITY_NORMAL]: 'normal',
  [ingestV1.Priority.PRIORITY_LOW]: 'low',
};

const orUndefined = (s: string) => (s === '' ? undefined : s);

/** The same object an external producer would publish, so one validator serves both doors. */
export function toWire(req: ingestV1.ScheduleJobRequest): Record<string, unknown> {
  const schedule =
    req.schedule && (req.schedule.cron || req.schedule.everyMs)
      ? { cron: orUndefined(req.schedule.cron), timezone: orUndefined(req.schedule.timezone), everyMs: req.schedule.everyMs || undefined }
      : undefined;
  return {
    requestId: orUndefined(req.requestId),
    appName: orUndefined(req.appName),
    scheduledTime: orUndefined(req.scheduledTime),
    priority: req.priority in PRIORITY ? PRIORITY[req.priority] : String(req.priority),
    idempotencyKey: orUndefined(req.idempotencyKey),
    jobData: req.jobData,
    schedule,
    startAt: orUndefined(req.startAt),
    endAt: orUndefined(req.endAt),
    misfirePolicy: orUndefined(req.misfirePolicy),
    overlapPolicy: orUndefined(req.overlapPolicy),
    maxRetries: req.maxRetries !== undefined && req.maxRetries >= 0 ? req.maxRetries : undefined,
    // Zero means unset in proto3: those fields take their defaults.
    backoff:
      req.backoff && (req.backoff.initialMs || req.backoff.multiplier || req.backoff.maxMs)
        ? { initialMs: req.backoff.initialMs || undefined, multiplier: req.backoff.multiplier || undefined, maxMs: req.backoff.maxMs || undefined }
        : undefined,
    catchUpWindowMs: req.catchUpWindowMs || undefined,
  };
}

const SNAKE: Record<string, string> = {
  requestId: 'request_id',
  appName: 'app_name',
  scheduledTime: 'scheduled_time',
  idempotencyKey: 'idempotency_key',
  jobData: 'job_data',
  startAt: 'start_at',
  endAt: 'end_at',
  misfirePolicy: 'misfire_policy',
  overlapPolicy: 'overlap_policy',
  maxRetries: 'max_retries',
  everyMs: 'every_ms',
  catchUpWindowMs: 'catch_up_window_ms',
  initialMs: 'initial_ms',
  maxMs: 'max_ms',
};
const protoField = (f: string) =>
  f
    .split('.')
    .map((p) => SNAKE[p] ?? p)
    .join('.');

/** Validates a request; INVALID_ARGUMENT names each bad field (prefixed for batch entries). */
export function validateForGrpc(req: ingestV1.ScheduleJobRequest, opts: ValidationOptions, prefix = ''): JobRequest {
  try {
    return validateJobRequest(toWire(req), opts);
  } catch (err) {
    if (!(err instanceof JobRequestError)) throw err;
    const [first, ...rest] = err.problems.map((p) => ({ field: `${prefix}${protoField(p.field)}`, description: p.problem }));
    throw invalidArgument(first.field, first.description, rest);
  }
}

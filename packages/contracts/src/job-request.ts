// The job request: the JSON external producers publish on scheduler.jobs.ingest, and what the
// gateway's ScheduleJob becomes. The gateway and the scheduler validate with the same function.
import { randomUUID } from 'node:crypto';
import { DateTime, IANAZone } from 'luxon';
import { CronError, parseCron } from './cron';
import { nextOccurrence, type ScheduleSpec } from './schedule';

export const PRIORITIES = ['high', 'normal', 'low'] as const;
export type Priority = (typeof PRIORITIES)[number];
export const MISFIRE_POLICIES = ['fire_once', 'skip', 'catch_up'] as const;
export const OVERLAP_POLICIES = ['skip', 'buffer_one', 'allow'] as const;
export type MisfirePolicy = (typeof MISFIRE_POLICIES)[number];
export type OverlapPolicy = (typeof OVERLAP_POLICIES)[number];
export const MIN_INTERVAL_MS = 100;

export interface Backoff {
  initialMs: number;
  multiplier: number;
  maxMs: number;
}

export interface JobRequest {
  requestId: string;
  appName: string;
  /** When the (first) occurrence is due, as an instant. */
  scheduledTime: Date;
  priority: Priority;
  idempotencyKey?: string;
  jobData: Record<string, unknown>;
  maxRetries?: number;
  backoff?: Backoff;
  /** Recurring jobs: cron in a zone, or a fixed interval. */
  schedule?: ScheduleSpec;
  startAt?: Date;
  endAt?: Date;
  misfirePolicy: MisfirePolicy;
  /** How far back catch_up fires missed occurrences. */
  catchUpWindowMs?: number;
  overlapPolicy: OverlapPolicy;
}

/** One problem per field, so callers can name each bad field. */
export class JobRequestError extends Error {
  constructor(readonly problems: Array<{ field: string; problem: string }>) {
    super(problems.map((p) => `${p.field}: ${p.problem}`).join('; '));
    this.name = 'JobRequestError';
  }
}

export interface ValidationOptions {
  /** IANA zone for scheduledTime values written without an offset. */
  defaultZone: string;
  /** Known app names; undefined accepts any. */
  apps?: ReadonlySet<string>;
  now?: Date;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A full date-time with its offset (or Z): the form producers usually send, read without luxon. */
const WITH_OFFSET = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:\d{2})$/;

export function parseInstant(value: string, defaultZone: string): Date | undefined {
  if (WITH_OFFSET.test(value)) {
    const ms = Date.parse(value);
    // Date.parse rolls 2026-02-30 over into March: the day must exist in its month.
    const [y, m, d] = [Number(value.slice(0, 4)), Number(value.slice(5, 7)), Number(value.slice(8, 10))];
    if (Number.isFinite(ms) && d >= 1 && d <= new Date(Date.UTC(y, m, 0)).getUTCDate()) return new Date(ms);
    if (!Number.isFinite(ms)) return undefined;
  }
  const dt = DateTime.fromISO(value, { zone: defaultZone, setZone: true });
  return dt.isValid ? dt.toJSDate() : undefined;
}

export function isValidZone(zone: string): boolean {
  return IANAZone.isValidZone(zone);
}

/** Validates a decoded job request; throws JobRequestError listing every bad field. */
export function validateJobRequest(input: unknown, opts: ValidationOptions): JobRequest {
  const problems: Array<{ field: string; problem: string }> = [];
  const bad = (field: string, problem: string) => problems.push({ field, problem });
  if (!isObject(input)) throw new JobRequestError([{ field: '(message)', problem: 'must be a JSON object' }]);

  const str = (field: string, required: boolean, max = 256): string | undefined => {
    const v = input[field];
    if (v === undefined || v === null || v === '') {
      if (required) bad(field, 'is required');
      return undefined;
    }
    if (typeof v !== 'string') return void bad(field, 'must be a string');
    if (v.length > max) return void bad(field, `must be at most ${max} characters`);
    return v;
  };

  const requestId = str('requestId', false, 128) ?? randomUUID();
  const appName = str('appName', true, 128);
  if (appName && !/^[A-Za-z0-9_.-]+$/.test(appName)) bad('appName', 'may contain only ASCII letters, digits, ".", "_" and "-"');
  else if (appName && opts.apps && !opts.apps.has(appName)) bad('appName', `unknown app "${appName}"`);

  let scheduledTime = opts.now ?? new Date();
  const rawTime = str('scheduledTime', false, 64);
  if (rawTime !== undefined) {
    const t = parseInstant(rawTime, opts.defaultZone);
    if (!t) bad('scheduledTime', `"${rawTime}" is not an ISO 8601 date-time`);
    else scheduledTime = t;
  }

  const rawPriority = str('priority', false, 16) ?? 'normal';
  const priority = rawPriority.toLowerCase() as Priority;
  if (!PRIORITIES.includes(priority)) bad('priority', `must be one of ${PRIORITIES.join(', ')}`);

  const idempotencyKey = str('idempotencyKey', false, 256);

  let jobData: Record<string, unknown> = {};
  if (input.jobData !== undefined && input.jobData !== null) {
    if (!isObject(input.jobData)) bad('jobData', 'must be a JSON object');
    else jobData = input.jobData;
  }

  let maxRetries: number | undefined;
  if (input.maxRetries !== undefined && input.maxRetries !== null) {
    const v = input.maxRetries;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > 100) bad('maxRetries', 'must be an integer from 0 to 100');
    else maxRetries = v;
  }

  let backoff: Backoff | undefined;
  if (input.backoff !== undefined && input.backoff !== null) {
    const b = input.backoff;
    if (!isObject(b)) bad('backoff', 'must be an object {initialMs, multiplier, maxMs}');
    else {
      const initialMs = b.initialMs ?? 200;
      const multiplier = b.multiplier ?? 2;
      const maxMs = b.maxMs ?? 30_000;
      if (typeof initialMs !== 'number' || initialMs < 0) bad('backoff.initialMs', 'must be a number of milliseconds >= 0');
      if (typeof multiplier !== 'number' || multiplier < 1) bad('backoff.multiplier', 'must be a number >= 1');
      if (typeof maxMs !== 'number' || maxMs < 0) bad('backoff.maxMs', 'must be a number of milliseconds >= 0');
      backoff = { initialMs: Number(initialMs), multiplier: Number(multiplier), maxMs: Number(maxMs) };
    }
  }

  let schedule: ScheduleSpec | undefined;
  if (input.schedule !== undefined && input.schedule !== null) {
    const sc = input.schedule;
    if (!isObject(sc)) bad('schedule', 'must be an object {cron, timezone} or {everyMs}');
    else if (sc.cron !== undefined && sc.cron !== null && sc.cron !== '') {
      if (sc.everyMs) bad('schedule', 'takes cron or everyMs, not both');
      const zone = sc.timezone === undefined || sc.timezone === null || sc.timezone === '' ? 'UTC' : sc.timezone;
      if (typeof sc.cron !== 'string') bad('schedule.cron', 'must be a string');
      else {
        try {
          parseCron(sc.cron);
        } catch (err) {
          if (!(err instanceof CronError)) throw err;
          bad('schedule.cron', `"${sc.cron}" is not a valid cron expression: ${err.message}`);
        }
      }
      if (typeof zone !== 'string' || !isValidZone(zone)) bad('schedule.timezone', `"${typeof zone === 'string' ? zone : JSON.stringify(zone)}" is not an IANA time zone`);
      if (typeof sc.cron === 'string' && typeof zone === 'string') schedule = { cron: sc.cron, timezone: zone };
    } else if (sc.everyMs !== undefined && sc.everyMs !== null && sc.everyMs !== 0) {
      const every = Number(sc.everyMs);
      if (!Number.isInteger(every) || every < MIN_INTERVAL_MS) bad('schedule.everyMs', `must be an integer number of milliseconds >= ${MIN_INTERVAL_MS}`);
      schedule = { everyMs: every };
    } else bad('schedule', 'needs cron or everyMs');
  }

  const instant = (field: string): Date | undefined => {
    const raw = str(field, false, 64);
    if (raw === undefined) return undefined;
    const t = parseInstant(raw, opts.defaultZone);
    if (!t) bad(field, `"${raw}" is not an ISO 8601 date-time`);
    return t;
  };
  const startAt = instant('startAt');
  const endAt = instant('endAt');
  if (startAt && endAt && endAt.getTime() < startAt.getTime()) bad('endAt', 'is before startAt');
  if ((startAt || endAt) && !schedule) bad(startAt ? 'startAt' : 'endAt', 'applies to recurring jobs (with a schedule) only');

  const misfirePolicy = (str('misfirePolicy', false, 16) ?? 'fire_once') as MisfirePolicy;
  if (!MISFIRE_POLICIES.includes(misfirePolicy)) bad('misfirePolicy', `must be one of ${MISFIRE_POLICIES.join(', ')}`);
  const overlapPolicy = (str('overlapPolicy', false, 16) ?? 'skip') as OverlapPolicy;
  if (!OVERLAP_POLICIES.includes(overlapPolicy)) bad('overlapPolicy', `must be one of ${OVERLAP_POLICIES.join(', ')}`);
  let catchUpWindowMs: number | undefined;
  if (input.catchUpWindowMs !== undefined && input.catchUpWindowMs !== null) {
    const v = input.catchUpWindowMs;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) bad('catchUpWindowMs', 'must be a non-negative integer number of milliseconds');
    else catchUpWindowMs = v;
  }

  // A job the scheduler could not give a first occurrence is refused here, with the same words
  // at both doors (the scheduler stores a job only with its first occurrence).
  if (!problems.length && schedule) {
    const unbounded = { spec: schedule, anchor: scheduledTime };
    const after = new Date(scheduledTime.getTime() - 1);
    if (!nextOccurrence({ ...unbounded, startAt, endAt }, after)) {
      if ('cron' in schedule && !nextOccurrence(unbounded, after)) bad('schedule.cron', `"${schedule.cron}" never matches a date`);
      else {
        // The first occurrence is at or after both startAt and scheduledTime (now when not given).
        const from = startAt && startAt.getTime() >= scheduledTime.getTime() ? 'startAt' : rawTime !== undefined ? 'scheduledTime' : 'now';
        if (endAt) bad('endAt', `the schedule has no occurrence between ${from} and endAt`);
        else bad('schedule', `the schedule has no occurrence after ${from}`);
      }
    }
  }

  if (problems.length) throw new JobRequestError(problems);
  return {
    requestId,
    appName: appName!,
    scheduledTime,
    priority,
    idempotencyKey,
    jobData,
    maxRetries,
    backoff,
    schedule,
    startAt,
    endAt,
    misfirePolicy,
    catchUpWindowMs,
    overlapPolicy,
  };
}

/** The wire form published on scheduler.jobs.ingest (scheduledTime as an ISO instant). */
export function jobRequestToWire(req: JobRequest): Record<string, unknown> {
  return {
    requestId: req.requestId,
    appName: req.appName,
    scheduledTime: req.scheduledTime.toISOString(),
    priority: req.priority,
    idempotencyKey: req.idempotencyKey,
    jobData: req.jobData,
    maxRetries: req.maxRetries,
    backoff: req.backoff,
    schedule: req.schedule,
    startAt: req.startAt?.toISOString(),
    endAt: req.endAt?.toISOString(),
    misfirePolicy: req.misfirePolicy,
    catchUpWindowMs: req.catchUpWindowMs,
    overlapPolicy: req.overlapPolicy,
  };
}

/** The Kafka key of a job request: the idempotency key (so duplicates meet), else the request id. */
export function jobRequestKey(req: Pick<JobRequest, 'idempotencyKey' | 'requestId'>): string {
  return req.idempotencyKey ?? req.requestId;
}

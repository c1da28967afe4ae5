// What the parts of the scheduler's store share: priorities, the wake-up channel, the rows and
// the ids that follow from a request id or a job's due time.
import { hash } from 'node:crypto';
import { nextOccurrence, type JobRequest, type Priority, type ScheduleSpec, type MisfirePolicy, type OverlapPolicy } from '@pipewright/contracts';

export const PRIORITY_RANK: Record<Priority, number> = { high: 0, normal: 1, low: 2 };
export const PRIORITY_NAME = ['high', 'normal', 'low'] as const;
export const WAKE_CHANNEL = 'pipewright_scheduler_wake';

export type JobStatus = 'NEW' | 'SCHEDULED' | 'RUNNING' | 'DONE' | 'FAILED' | 'DEAD' | 'CANCELLED' | 'PAUSED';

export interface JobRow {
  id: string;
  request_id: string;
  app_name: string;
  priority: number;
  idempotency_key: string | null;
  job_data: Record<string, unknown>;
  status: JobStatus;
  scheduled_time: Date;
  next_fire_at: Date | null;
  max_retries: number | null;
  backoff: JobRequest['backoff'] | null;
  trace_context: Record<string, string> | null;
  attempts: number;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
  schedule: ScheduleSpec | null;
  start_at: Date | null;
  end_at: Date | null;
  misfire_policy: MisfirePolicy;
  catch_up_window_ms: string | null;
  overlap_policy: OverlapPolicy;
  skipped: number;
}

export interface JobView extends JobRow {
  runs: number;
  fired_at: Date | null;
  started_at: Date | null;
  finished_at: Date | null;
}

export interface RunRow {
  id: string;
  job_id: string;
  status: string;
  attempt: number;
  due_at: Date;
  fired_at: Date;
  started_at: Date | null;
  finished_at: Date | null;
  error: string | null;
}

export type InsertOutcome = { kind: 'inserted'; jobId: string } | { kind: 'duplicate'; reason: 'request' | 'idempotency-key'; jobId: string } | { kind: 'no-occurrence' };

/** The first occurrence of a request: its scheduledTime, or its schedule's first at or after it. */
export function firstOccurrence(req: JobRequest): Date | undefined {
  return nextOccurrence({ spec: req.schedule, anchor: req.scheduledTime, startAt: req.startAt, endAt: req.endAt }, new Date(req.scheduledTime.getTime() - 1));
}

export interface NewJob {
  req: JobRequest;
  /** The trace the job joins: its request's, carried in the message headers. */
  traceContext: Record<string, string>;
}

/**
 * A job's id, from its request id (a name-based UUID, version 5 layout over SHA-1): a request
 * stored again after a transaction that did not commit gets the same id, and so the same run
 * ids, which the executor runs once.
 */
export function jobIdFor(requestId: string): string {
  // One-shot hash: a Hash object per job cost about twice as much, at thousands of jobs a batch.
  const h = hash('sha1', `pipewright.job\u0000${requestId}`, 'buffer');
  h[6] = (h[6] & 0x0f) | 0x50;
  h[8] = (h[8] & 0x3f) | 0x80;
  const x = h.toString('hex', 0, 16);
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** What a job fired as it is stored carries to jobs.due. */
export type DueSource = Pick<JobRow, 'id' | 'app_name' | 'priority' | 'job_data' | 'max_retries' | 'backoff' | 'trace_context'>;

/**
 * Firing as jobs are stored: a one-shot job due already is stored fired (its run with it), in
 * the storing transaction, unless due jobs of its priority or a higher one are waiting for the
 * firing loops (they go first, so the new one waits its turn there).
 */
export interface IngestFiring {
  /** When the runs are fired. */
  now: Date;
  /** Whether a request, first due at first, fires as it is stored. */
  firesNow(req: JobRequest, first: Date): boolean;
  /** Publishes the runs fired with their jobs; called inside the storing transaction, before it commits. */
  publish(fired: Array<{ job: DueSource; dueAt: Date }>): Promise<void>;
}

/** A run's id: its job and due time, so a run fired again (after a crash, or by another replica) keeps it. */
export const runIdFor = (jobId: string, dueAt: Date) => `${jobId}:${dueAt.getTime()}`;

/**
 * Rows as the JSON a jsonb_to_recordset statement reads, their null fields left out (a missing key
 * reads as NULL): PostgreSQL parses a null as dearly as a value, and a stored job has eight or so.
 * Measured, 1,000 rows of a job stored ahead: 451 -> 306 bytes a row, and the statement's parse
 * 21.5-22 -> 15.7-16 us a row, for 0.5 us a row more here. Only the top level: a job's own data
 * keeps its nulls. fields: only these (the statement's columns), when the rows hold more.
 */
export function recordsetJson<T extends object>(rows: T[], fields?: Array<keyof T & string>): string {
  return JSON.stringify(
    rows.map((row) => {
      const out: Record<string, unknown> = {};
      for (const k of fields ?? (Object.keys(row) as Array<keyof T & string>)) {
        const v = row[k];
        if (v !== null && v !== undefined) out[k] = v;
      }
      return out;
    }),
  );
}

// Messages between scheduler and executor: a due run on jobs.due, its progress on jobs.status.
import type { Backoff, Priority } from './job-request';

export interface DueRun {
  runId: string;
  jobId: string;
  appName: string;
  priority: Priority;
  jobData: Record<string, unknown>;
  dueAt: string;
  firedAt: string;
  maxRetries?: number;
  backoff?: Backoff;
  /** Set when the scheduler fires a run again for a retry: the attempt this delivery is for. */
  attempt?: number;
}

export const RUN_STATUSES = ['RUNNING', 'DONE', 'FAILED', 'DEAD'] as const;
export type RunStatus = (typeof RUN_STATUSES)[number];

export interface RunStatusEvent {
  runId: string;
  jobId: string;
  status: RunStatus;
  attempt: number;
  at: string;
  error?: string;
  executor?: string;
  /** FAILED only: the executor handed the retry to the scheduler, to fire again at this time. */
  retryAt?: string;
  /** When this attempt started: a run that finishes quickly reports start and finish in one event. */
  startedAt?: string;
  /** The run's due and fire times, from jobs.due, so the event stands on its own. */
  dueAt?: string;
  firedAt?: string;
}

const need = (obj: Record<string, unknown>, field: string, type: 'string' | 'number' | 'object') => {
  const v = obj[field];
  if (typeof v !== type || v === null) throw new Error(`${field} must be a ${type}`);
  return v;
};

export function parseJson(bytes: Buffer | null): Record<string, unknown> {
  if (!bytes || bytes.length === 0) throw new Error('empty message');
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`not valid JSON: ${(err as Error).message}`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new Error('message must be a JSON object');
  return v as Record<string, unknown>;
}

export function decodeDueRun(bytes: Buffer | null): DueRun {
  const o = parseJson(bytes);
  for (const f of ['runId', 'jobId', 'appName', 'dueAt', 'firedAt']) need(o, f, 'string');
  need(o, 'jobData', 'object');
  if (o.attempt !== undefined && (typeof o.attempt !== 'number' || !Number.isInteger(o.attempt) || o.attempt < 1)) throw new Error('attempt must be a positive integer');
  return o as unknown as DueRun;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** True for a UUID in its text form (any version). */
export const isUuid = (v: unknown): boolean => typeof v === 'string' && UUID.test(v);
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;
const isTime = (v: unknown) => typeof v === 'string' && ISO_TIME.test(v) && !Number.isNaN(Date.parse(v));

/**
 * A run status event, checked for everything the scheduler stores from it (a job id is a UUID,
 * an attempt a 32-bit integer, times ISO 8601), so that an event it could not store is rejected
 * here, alone, instead of failing the batch it arrives in.
 */
export function decodeRunStatus(bytes: Buffer | null): RunStatusEvent {
  const o = parseJson(bytes);
  for (const f of ['runId', 'jobId', 'status', 'at']) need(o, f, 'string');
  need(o, 'attempt', 'number');
  if (!isUuid(o.jobId)) throw new Error('jobId must be a UUID');
  if (!Number.isInteger(o.attempt) || (o.attempt as number) < 0 || (o.attempt as number) > 2_147_483_647) throw new Error('attempt must be an integer from 0 to 2147483647');
  if (!RUN_STATUSES.includes(o.status as RunStatus)) throw new Error(`status must be one of ${RUN_STATUSES.join(', ')}`);
  for (const f of ['at', 'retryAt', 'startedAt', 'dueAt', 'firedAt']) {
    if (o[f] !== undefined && !isTime(o[f])) throw new Error(`${f} must be an ISO 8601 time`);
  }
  if (o.error !== undefined && o.error !== null && typeof o.error !== 'string') throw new Error('error must be a string');
  return o as unknown as RunStatusEvent;
}

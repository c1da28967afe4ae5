// Run status events folded into what they say about each run: the newest state (a later
// attempt, or a later state of the same attempt), the first start and the finish. Folding is
// commutative, so events applied in any order, or twice, leave the same run.
import type { RunStatusEvent } from '@pipewright/contracts';

/** FIRED < RUNNING < FAILED < DONE = DEAD within one attempt; a finished run changes no more. */
export const RUN_RANK: Record<string, number> = { PENDING: 0, FIRED: 0, RUNNING: 1, FAILED: 2, DONE: 3, DEAD: 3, SKIPPED: 3 };
export const FINISHED = (status: string) => status === 'DONE' || status === 'DEAD';

export interface RunUpdate {
  id: string;
  job_id: string;
  status: string;
  attempt: number;
  due_at: string;
  fired_at: string;
  started_at: string | null;
  finished_at: string | null;
  error: string | null;
  retry_at: string | null;
  /** When the newest event happened. */
  at: string;
}

/** The due time a run id carries (`<jobId>:<dueMs>`), for events from executors that do not say it. */
function dueOf(ev: RunStatusEvent): string {
  if (ev.dueAt) return ev.dueAt;
  const ms = Number(ev.runId.slice(ev.runId.lastIndexOf(':') + 1));
  return Number.isFinite(ms) ? new Date(ms).toISOString() : ev.at;
}

const earliest = (a: string | null, b: string | null) => (a === null ? b : b === null ? a : Date.parse(a) <= Date.parse(b) ? a : b);

function toUpdate(ev: RunStatusEvent): RunUpdate {
  return {
    id: ev.runId,
    job_id: ev.jobId,
    status: ev.status,
    attempt: ev.attempt,
    due_at: dueOf(ev),
    fired_at: ev.firedAt ?? ev.at,
    started_at: ev.startedAt ?? (ev.status === 'RUNNING' ? ev.at : null),
    finished_at: FINISHED(ev.status) ? ev.at : null,
    error: ev.error ?? null,
    retry_at: ev.status === 'FAILED' && ev.retryAt ? ev.retryAt : null,
    at: ev.at,
  };
}

/** True when b says something newer about the run than a. */
export function isNewer(a: { status: string; attempt: number }, b: { status: string; attempt: number }): boolean {
  if (RUN_RANK[a.status] === 3) return false;
  return b.attempt > a.attempt || (b.attempt === a.attempt && RUN_RANK[b.status] > RUN_RANK[a.status]);
}

/** One update per run, in first-seen order. */
export function foldRunEvents(events: RunStatusEvent[]): RunUpdate[] {
  const runs = new Map<string, RunUpdate>();
  for (const ev of events) {
    const next = toUpdate(ev);
    const cur = runs.get(ev.runId);
    if (!cur) {
      runs.set(ev.runId, next);
      continue;
    }
    const winner = isNewer(cur, next) ? next : cur;
    runs.set(ev.runId, {
      ...winner,
      started_at: earliest(cur.started_at, next.started_at),
      finished_at: cur.finished_at ?? next.finished_at,
      error: winner.error ?? (winner === next ? cur.error : next.error),
      fired_at: earliest(cur.fired_at, next.fired_at) as string,
    });
  }
  return [...runs.values()];
}

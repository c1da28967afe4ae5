// What to do with a job whose occurrence is due: which occurrences fire now, which one waits
// for the running one (buffer_one), which are skipped and why, and when the job is due next.
// Pure: the firing loop applies the plan inside its transaction.
import { nextOccurrence, occurrencesBetween, type MisfirePolicy, type OverlapPolicy, type Occurrences } from '@pipewright/contracts';

export interface DueJob extends Occurrences {
  /** The occurrence that made the job due. */
  dueAt: Date;
  misfirePolicy: MisfirePolicy;
  overlapPolicy: OverlapPolicy;
  catchUpWindowMs?: number;
}

export interface PlanContext {
  now: Date;
  /** A run of the job is fired, running or retrying. */
  hasActiveRun: boolean;
  /** A buffered (PENDING) run already waits. */
  hasPendingRun: boolean;
  /** How late an occurrence may fire before it counts as misfired. */
  misfireThresholdMs: number;
  defaultCatchUpWindowMs: number;
  /** Most missed occurrences considered one by one; older ones are only counted. */
  maxOccurrences: number;
}

export interface Skip {
  at: Date;
  reason: 'misfire' | 'overlap';
}

export interface FiringPlan {
  fire: Date[];
  pend?: Date;
  skip: Skip[];
  /** Skipped occurrences beyond maxOccurrences, counted but not listed. */
  uncounted: number;
  next?: Date;
}

export function planFiring(job: DueJob, ctx: PlanContext): FiringPlan {
  const late = (d: Date) => ctx.now.getTime() - d.getTime() > ctx.misfireThresholdMs;

  if (!job.spec) {
    if (late(job.dueAt) && job.misfirePolicy === 'skip') return { fire: [], skip: [{ at: job.dueAt, reason: 'misfire' }], uncounted: 0 };
    return { fire: [job.dueAt], skip: [], uncounted: 0 };
  }

  const due = [job.dueAt, ...occurrencesBetween(job, job.dueAt, ctx.now, ctx.maxOccurrences - 1)];
  const last = due[due.length - 1];
  const next = nextOccurrence(job, ctx.now.getTime() > last.getTime() ? ctx.now : last);
  // Occurrences missed beyond the ones listed (a long outage of a frequent schedule).
  let uncounted = 0;
  if (due.length >= ctx.maxOccurrences) {
    if ('everyMs' in job.spec) uncounted = Math.max(0, Math.floor((ctx.now.getTime() - last.getTime()) / job.spec.everyMs));
    else uncounted = occurrencesBetween(job, last, ctx.now, 10_000).length;
  }

  const skip: Skip[] = [];
  let candidates = due;
  if (due.some(late)) {
    if (job.misfirePolicy === 'fire_once') {
      candidates = [last];
    } else if (job.misfirePolicy === 'skip') {
      candidates = due.filter((d) => !late(d));
    } else {
      const window = job.catchUpWindowMs ?? ctx.defaultCatchUpWindowMs;
      candidates = due.filter((d) => ctx.now.getTime() - d.getTime() <= window);
    }
    for (const d of due) if (!candidates.includes(d)) skip.push({ at: d, reason: 'misfire' });
  }

  const fire: Date[] = [];
  let pend: Date | undefined;
  let busy = ctx.hasActiveRun;
  let pendingTaken = ctx.hasPendingRun;
  for (const c of candidates) {
    if (job.overlapPolicy === 'allow' || !busy) {
      fire.push(c);
      busy = true;
    } else if (job.overlapPolicy === 'buffer_one' && !pendingTaken) {
      pend = c;
      pendingTaken = true;
    } else {
      skip.push({ at: c, reason: 'overlap' });
    }
  }
  skip.sort((a, b) => a.at.getTime() - b.at.getTime());
  return { fire, pend, skip, uncounted, next };
}

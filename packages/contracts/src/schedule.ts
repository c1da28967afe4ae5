// When the occurrences of a job fall: once, every N ms from an anchor, or by cron in a zone;
// bounded by startAt and endAt.
import { nextCronOccurrence, parseCron, type Cron } from './cron';

export type ScheduleSpec = { cron: string; timezone: string } | { everyMs: number };

export interface Occurrences {
  spec?: ScheduleSpec;
  /** The first occurrence of a one-shot job, and the anchor of an interval. */
  anchor: Date;
  startAt?: Date;
  endAt?: Date;
}

const cache = new Map<string, Cron>();
const cronOf = (source: string) => {
  let c = cache.get(source);
  if (!c) {
    c = parseCron(source);
    if (cache.size > 1000) cache.clear();
    cache.set(source, c);
  }
  return c;
};

/** The first occurrence strictly after `after` (undefined when the schedule has ended). */
export function nextOccurrence(o: Occurrences, after: Date): Date | undefined {
  const floor = o.startAt && o.startAt.getTime() - 1 > after.getTime() ? new Date(o.startAt.getTime() - 1) : after;
  let next: Date | undefined;
  if (!o.spec) {
    next = o.anchor.getTime() > floor.getTime() ? o.anchor : undefined;
  } else if ('everyMs' in o.spec) {
    const anchor = (o.startAt ?? o.anchor).getTime();
    const k = Math.max(0, Math.floor((floor.getTime() - anchor) / o.spec.everyMs) + 1);
    next = new Date(anchor + k * o.spec.everyMs);
  } else {
    next = nextCronOccurrence(cronOf(o.spec.cron), o.spec.timezone, floor);
  }
  if (next && o.endAt && next.getTime() > o.endAt.getTime()) return undefined;
  return next;
}

/** Occurrences in (after, until], at most `limit` of them. */
export function occurrencesBetween(o: Occurrences, after: Date, until: Date, limit: number): Date[] {
  const out: Date[] = [];
  let t = after;
  while (out.length < limit) {
    const n = nextOccurrence(o, t);
    if (!n || n.getTime() > until.getTime()) break;
    out.push(n);
    t = n;
  }
  return out;
}

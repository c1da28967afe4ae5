// Cron expressions evaluated in an IANA time zone, correct across daylight-saving changes.
//
// Fields: [second] minute hour day-of-month month day-of-week (seconds optional). Each field
// takes *, numbers, ranges a-b, steps */n and a-b/n, lists, and names (JAN-DEC, SUN-SAT);
// day-of-week 0 and 7 are Sunday. When both day fields are restricted a day matching either
// one matches (as in Vixie cron).
//
// Daylight saving: a wall-clock time that does not exist (spring forward) runs at the same
// offset after the change (02:30 becomes 03:30), once; a wall-clock time that happens twice
// (fall back) runs once, at its first instant — unless the hour field is a wildcard, in which
// case the expression follows real time and runs in both passes of the repeated hour.
import { DateTime } from 'luxon';

interface Field {
  values: Set<number>;
  any: boolean;
}

export interface Cron {
  source: string;
  second: Field;
  minute: Field;
  hour: Field;
  dom: Field;
  month: Field;
  dow: Field;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

export class CronError extends Error {}

function parseField(text: string, name: string, min: number, max: number, names: string[] = [], nameBase = 0): Field {
  const values = new Set<number>();
  const num = (s: string): number => {
    const i = names.indexOf(s.toUpperCase());
    if (i >= 0) return i + nameBase;
    if (!/^\d+$/.test(s)) throw new CronError(`${name}: "${s}" is not a number`);
    const n = Number(s);
    const top = name === 'day-of-week' ? 7 : max;
    if (n < min || n > top) throw new CronError(`${name}: ${n} is outside ${min}-${top}`);
    return n;
  };
  const any = text === '*' || text === '?';
  for (const part of text.split(',')) {
    const [range, stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new CronError(`${name}: step "${stepText}" must be a positive integer`);
    let lo: number;
    let hi: number;
    if (range === '*' || range === '?') {
      lo = min;
      hi = max;
    } else if (range.includes('-')) {
      const [a, b] = range.split('-');
      lo = num(a);
      hi = num(b);
      if (lo > hi) throw new CronError(`${name}: range ${range} runs backwards`);
    } else {
      lo = num(range);
      hi = stepText === undefined ? lo : max;
    }
    for (let v = lo; v <= hi; v += step) values.add(name === 'day-of-week' && v === 7 ? 0 : v);
  }
  return { values, any };
}

export function parseCron(source: string): Cron {
  const parts = source.trim().split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) throw new CronError(`expected 5 or 6 fields, got ${parts.length}`);
  const [sec, min, hour, dom, month, dow] = parts.length === 6 ? parts : ['0', ...parts];
  return {
    source,
    second: parseField(sec, 'second', 0, 59),
    minute: parseField(min, 'minute', 0, 59),
    hour: parseField(hour, 'hour', 0, 23),
    dom: parseField(dom, 'day-of-month', 1, 31),
    month: parseField(month, 'month', 1, 12, MONTHS, 1),
    dow: parseField(dow, 'day-of-week', 0, 6, DAYS, 0),
  };
}

function dayMatches(c: Cron, d: DateTime): boolean {
  const domOk = c.dom.values.has(d.day);
  const dowOk = c.dow.values.has(d.weekday % 7);
  if (c.dom.any && c.dow.any) return true;
  if (c.dom.any) return dowOk;
  if (c.dow.any) return domOk;
  return domOk || dowOk;
}

const smallestAtLeast = (f: Field, v: number): number | undefined => {
  let best: number | undefined;
  for (const x of f.values) if (x >= v && (best === undefined || x < best)) best = x;
  return best;
};

/** The first wall-clock time (a zone-less DateTime in UTC) at or after `w` that matches. */
function nextWall(c: Cron, w: DateTime): DateTime | undefined {
  let t = w;
  for (let guard = 0; guard < 5000; guard++) {
    if (t.year > w.year + 8) return undefined;
    const m = smallestAtLeast(c.month, t.month);
    if (m === undefined) {
      t = DateTime.utc(t.year + 1, 1, 1);
      continue;
    }
    if (m !== t.month) {
      t = DateTime.utc(t.year, m, 1);
      continue;
    }
    if (!dayMatches(c, t)) {
      t = t.startOf('day').plus({ days: 1 });
      continue;
    }
    const h = smallestAtLeast(c.hour, t.hour);
    if (h === undefined) {
      t = t.startOf('day').plus({ days: 1 });
      continue;
    }
    if (h !== t.hour) {
      t = t.set({ hour: h, minute: 0, second: 0 });
      continue;
    }
    const mi = smallestAtLeast(c.minute, t.minute);
    if (mi === undefined) {
      t = t.startOf('hour').plus({ hours: 1 });
      continue;
    }
    if (mi !== t.minute) {
      t = t.set({ minute: mi, second: 0 });
      continue;
    }
    const s = smallestAtLeast(c.second, t.second);
    if (s === undefined) {
      t = t.startOf('minute').plus({ minutes: 1 });
      continue;
    }
    return t.set({ second: s });
  }
  return undefined;
}

/** The instants a wall-clock time stands for in a zone: none or one shifted (gap), one, or two (overlap). */
function instantsOf(wall: DateTime, zone: string): { instants: number[]; gap: boolean } {
  const fields = { year: wall.year, month: wall.month, day: wall.day, hour: wall.hour, minute: wall.minute, second: wall.second };
  const local = DateTime.fromObject(fields, { zone });
  const sameWall = (d: DateTime) => d.hour === wall.hour && d.minute === wall.minute && d.day === wall.day;
  if (!sameWall(local)) return { instants: [local.toMillis()], gap: true };
  const out = new Set<number>([local.toMillis()]);
  const ms = local.toMillis();
  const near = (d: number) => DateTime.fromMillis(ms + d * 3600_000, { zone }).offset;
  if (near(-3) === near(3)) return { instants: [ms], gap: false };
  // The other offset of an ambiguous time lies an offset-difference away.
  for (const deltaH of [-2, -1, -0.5, 0.5, 1, 2]) {
    const other = DateTime.fromMillis(local.toMillis() + deltaH * 3600_000, { zone });
    if (sameWall(other) && other.second === wall.second) out.add(other.toMillis());
  }
  return { instants: [...out].sort((a, b) => a - b), gap: false };
}

/** The first occurrence strictly after `after`, or undefined when there is none within 8 years. */
export function nextCronOccurrence(c: Cron, zone: string, after: Date): Date | undefined {
  const followsRealTime = c.hour.any || c.hour.values.size === 24;
  const afterMs = after.getTime();
  // Walk wall-clock times from a little before `after` (a repeated hour puts later instants at
  // earlier wall times), keeping the earliest instant after `after`.
  const here = DateTime.fromMillis(afterMs, { zone });
  const offsetAt = (h: number) => DateTime.fromMillis(afterMs + h * 3600_000, { zone }).offset;
  // Wall time only runs backwards when the offset falls (the clocks go back): then a later
  // instant can have an earlier wall time, by at most the size of the fall.
  const fallMs = Math.max(0, offsetAt(-3) - offsetAt(3)) * 60_000;
  const lookAhead = fallMs;
  const startLocal = here.minus({ milliseconds: fallMs }).startOf('second');
  let wall: DateTime | undefined = DateTime.utc(startLocal.year, startLocal.month, startLocal.day, startLocal.hour, startLocal.minute, startLocal.second);
  let best: number | undefined;
  let bestWall: DateTime | undefined;
  for (let guard = 0; guard < 100_000 && wall; guard++) {
    wall = nextWall(c, wall);
    if (!wall) break;
    if (bestWall && wall.toMillis() > bestWall.toMillis() + lookAhead) break;
    const { instants, gap } = instantsOf(wall, zone);
    const chosen = gap ? (followsRealTime ? [] : instants) : followsRealTime ? instants : [instants[0]];
    for (const i of chosen) {
      if (i > afterMs && (best === undefined || i < best)) {
        best = i;
        bestWall = wall;
      }
    }
    wall = wall.plus({ seconds: 1 });
  }
  return best === undefined ? undefined : new Date(best);
}


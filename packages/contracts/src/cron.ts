// Cron expressions evaluated in an IANA time zone, correct across daylight-saving changes.
//
// Fields: [second] minute hour day-of-month month day-of-week (seconds optional). Each field
// takes *, ?, numbers, ranges a-b, steps */n and a-b/n, lists, and names (JAN-DEC, SUN-SAT);
// day-of-week 0 and 7 are Sunday. The day fields also take, as cron-parser, croner and Quartz do:
//   day-of-month  L (the last day of the month), LW (its last weekday), 15W (the weekday nearest
//                 the 15th, within the month: a Saturday 1st moves to Monday the 3rd)
//   day-of-week   5L or 5#L (the last Friday of the month), 1#2 (its second Monday; 1-5)
// When both day fields are restricted (neither is * or ?) a day matching either one matches (as
// in Vixie cron). Nicknames: @yearly and @annually (0 0 1 1 *), @monthly (0 0 1 * *), @weekly
// (0 0 * * 0), @daily and @midnight (0 0 * * *), @hourly (0 * * * *).
//
// Daylight saving: a wall-clock time that does not exist (spring forward) runs at the same
// offset after the change (02:30 becomes 03:30), once; a wall-clock time that happens twice
// (fall back) runs once, at its first instant — unless the hour field is a wildcard, in which
// case the expression follows real time and runs in both passes of the repeated hour.
import { DateTime } from 'luxon';

/** The values a time or month field allows. */
interface Field {
  /** Sorted. */
  values: number[];
  /** Written as * or ?. */
  any: boolean;
  /** next[v]: the smallest allowed value >= v, or -1; one entry past the field's maximum. */
  next: Int8Array;
}

interface DayOfMonth {
  any: boolean;
  /** Bit d-1 for day d. */
  days: number;
  last: boolean;
  lastWeekday: boolean;
  /** Days n of nW. */
  nearestWeekday: number[];
}

interface DayOfWeek {
  any: boolean;
  /** Bit w for weekday w (0 = Sunday). */
  days: number;
  /** Weekdays of wL / w#L. */
  last: number;
  /** nth[n]: weekdays of w#n (n 1-5). */
  nth: number[];
}

export interface Cron {
  source: string;
  second: Field;
  minute: Field;
  hour: Field;
  dom: DayOfMonth;
  month: Field;
  dow: DayOfWeek;
  /** The matching days of a month, by its length and the weekday of its 1st (filled as needed). */
  dayMasks: number[];
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
const NICKNAMES: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export class CronError extends Error {}

/** A number or a name (names[i] stands for i + nameBase) within min-max. */
function valueOf(s: string, name: string, min: number, max: number, names: string[] = [], nameBase = 0): number {
  const i = names.indexOf(s.toUpperCase());
  if (i >= 0) return i + nameBase;
  if (!/^\d+$/.test(s)) throw new CronError(`${name}: "${s}" is not a number`);
  const n = Number(s);
  if (n < min || n > max) throw new CronError(`${name}: ${n} is outside ${min}-${max}`);
  return n;
}

/** The plain values of one list item: *, ?, n, a-b, with an optional /step. */
function itemValues(part: string, name: string, min: number, max: number, top: number, names: string[] = [], nameBase = 0): number[] {
  const pieces = part.split('/');
  if (pieces.length > 2) throw new CronError(`${name}: "${part}" has more than one step`);
  const [range, stepText] = pieces;
  const step = stepText === undefined ? 1 : /^\d+$/.test(stepText) ? Number(stepText) : NaN;
  if (!Number.isInteger(step) || step < 1) throw new CronError(`${name}: step "${stepText}" must be a positive integer`);
  let lo: number;
  let hi: number;
  if (range === '*' || range === '?') {
    lo = min;
    hi = max;
  } else if (range.includes('-')) {
    const bounds = range.split('-');
    if (bounds.length !== 2) throw new CronError(`${name}: "${range}" is not a range a-b`);
    lo = valueOf(bounds[0], name, min, top, names, nameBase);
    hi = valueOf(bounds[1], name, min, top, names, nameBase);
    if (lo > hi) throw new CronError(`${name}: range ${range} runs backwards`);
  } else {
    // n/k runs to the top of the field: 0-7 for day-of-week, as in Vixie cron (3/4 is Wednesday and Sunday).
    lo = valueOf(range, name, min, top, names, nameBase);
    hi = stepText === undefined ? lo : top;
  }
  const out: number[] = [];
  for (let v = lo; v <= hi; v += step) out.push(v);
  return out;
}

function timeField(text: string, name: string, min: number, max: number, names: string[] = [], nameBase = 0): Field {
  const set = new Set<number>();
  for (const part of text.split(',')) for (const v of itemValues(part, name, min, max, max, names, nameBase)) set.add(v);
  const values = [...set].sort((a, b) => a - b);
  const next = new Int8Array(max + 2).fill(-1);
  for (let v = max, best = -1; v >= 0; v--) {
    if (set.has(v)) best = v;
    next[v] = best;
  }
  return { values, any: text === '*' || text === '?', next };
}

function dayOfMonthField(text: string): DayOfMonth {
  const name = 'day-of-month';
  const f: DayOfMonth = { any: text === '*' || text === '?', days: 0, last: false, lastWeekday: false, nearestWeekday: [] };
  for (const part of text.split(',')) {
    const upper = part.toUpperCase();
    if (upper === 'L') f.last = true;
    else if (upper === 'LW') f.lastWeekday = true;
    else if (/^\d+W$/.test(upper)) f.nearestWeekday.push(valueOf(upper.slice(0, -1), name, 1, 31));
    else if (/[LW]/.test(upper)) throw new CronError(`${name}: "${part}" is not a day, L, LW or a day with W (15W)`);
    else for (const d of itemValues(part, name, 1, 31, 31)) f.days |= 1 << (d - 1);
  }
  return f;
}

function dayOfWeekField(text: string): DayOfWeek {
  const name = 'day-of-week';
  const f: DayOfWeek = { any: text === '*' || text === '?', days: 0, last: 0, nth: [0, 0, 0, 0, 0, 0] };
  const day = (s: string) => valueOf(s, name, 0, 7, DAYS) % 7;
  for (const part of text.split(',')) {
    const upper = part.toUpperCase();
    const nth = /^(\w+)#(\w+)$/.exec(upper);
    if (nth) {
      if (nth[2] === 'L') f.last |= 1 << day(nth[1]);
      else if (/^[1-5]$/.test(nth[2])) f.nth[Number(nth[2])] |= 1 << day(nth[1]);
      else throw new CronError(`${name}: "${part}" needs 1-5 or L after # (1#2 is the second Monday)`);
    } else if (upper === 'L') {
      throw new CronError(`${name}: L needs a day before it (5L is the last Friday of the month)`);
    } else if (/^\w+L$/.test(upper) && !DAYS.includes(upper)) {
      f.last |= 1 << day(upper.slice(0, -1));
    } else if (upper.includes('#')) {
      throw new CronError(`${name}: "${part}" is not a day with #n (1#2 is the second Monday)`);
    } else {
      for (const d of itemValues(part, name, 0, 6, 7, DAYS)) f.days |= 1 << (d % 7);
    }
  }
  return f;
}

export function parseCron(source: string): Cron {
  let text = source.trim();
  if (text.startsWith('@')) {
    const expanded = NICKNAMES[text.toLowerCase()];
    if (!expanded) throw new CronError(`"${text}" is not a nickname: use ${Object.keys(NICKNAMES).join(', ')}`);
    text = expanded;
  }
  const parts = text.split(/\s+/);
  if (parts.length !== 5 && parts.length !== 6) throw new CronError(`expected 5 or 6 fields, got ${parts.length}`);
  const [sec, min, hour, dom, month, dow] = parts.length === 6 ? parts : ['0', ...parts];
  return {
    source,
    second: timeField(sec, 'second', 0, 59),
    minute: timeField(min, 'minute', 0, 59),
    hour: timeField(hour, 'hour', 0, 23),
    dom: dayOfMonthField(dom),
    month: timeField(month, 'month', 1, 12, MONTHS, 1),
    dow: dayOfWeekField(dow),
    dayMasks: [],
  };
}

const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();

/** Bit d-1 set for each day d of a month of `length` days whose 1st is weekday `first` that matches. */
function dayMask(c: Cron, length: number, first: number): number {
  const key = (length - 28) * 7 + first;
  const known = c.dayMasks[key];
  if (known !== undefined) return known;
  const weekday = (d: number) => (first + d - 1) % 7;
  let dom = c.dom.days & (2 ** length - 1);
  if (c.dom.last) dom |= 1 << (length - 1);
  if (c.dom.lastWeekday) {
    const w = weekday(length);
    dom |= 1 << (length - 1 - (w === 6 ? 1 : w === 0 ? 2 : 0));
  }
  for (const n of c.dom.nearestWeekday) {
    if (n > length) continue;
    const w = weekday(n);
    const d = w === 6 ? (n === 1 ? 3 : n - 1) : w === 0 ? (n === length ? n - 2 : n + 1) : n;
    dom |= 1 << (d - 1);
  }
  let dow = 0;
  for (let d = 1; d <= length; d++) {
    const bit = 1 << weekday(d);
    if (c.dow.days & bit || (c.dow.last & bit && d + 7 > length) || c.dow.nth[Math.ceil(d / 7)] & bit) dow |= 1 << (d - 1);
  }
  const all = 2 ** length - 1;
  const mask = c.dom.any && c.dow.any ? all : c.dom.any ? dow : c.dow.any ? dom : dom | dow;
  c.dayMasks[key] = mask;
  return mask;
}

/** The first matching day of a month at or after day `from`, or -1. */
function firstDay(c: Cron, year: number, month: number, from: number): number {
  const length = daysInMonth(year, month);
  if (from > length) return -1;
  const first = new Date(Date.UTC(year, month - 1, 1)).getUTCDay();
  const x = dayMask(c, length, first) & ~((1 << (from - 1)) - 1);
  return x === 0 ? -1 : 32 - Math.clz32(x & -x);
}

/**
 * Every expression that matches some date matches one within this many years of any date: the
 * Gregorian calendar repeats every 400 years.
 */
const HORIZON_YEARS = 401;

/**
 * The first matching wall-clock time at or after `from`, both in seconds of a zone-less clock
 * (read as UTC), or undefined when the expression never matches a date. Field by field: the
 * month, then the day, hour, minute and second, each the smallest allowed at or after the one
 * before, carrying over when a field has none left.
 */
export function nextWallTime(c: Cron, from: number): number | undefined {
  const d = new Date(from * 1000);
  const limit = d.getUTCFullYear() + HORIZON_YEARS;
  let y = d.getUTCFullYear();
  let mo = d.getUTCMonth() + 1;
  let day = d.getUTCDate();
  let h = d.getUTCHours();
  let mi = d.getUTCMinutes();
  let s = d.getUTCSeconds();
  for (;;) {
    const m = c.month.next[mo];
    if (m < 0) {
      if (++y > limit) return undefined;
      mo = 1;
      day = 1;
      h = mi = s = 0;
      continue;
    }
    if (m !== mo) {
      mo = m;
      day = 1;
      h = mi = s = 0;
    }
    const dd = firstDay(c, y, mo, day);
    if (dd < 0) {
      mo++;
      day = 1;
      h = mi = s = 0;
      continue;
    }
    if (dd !== day) {
      day = dd;
      h = mi = s = 0;
    }
    const hh = c.hour.next[h];
    if (hh < 0) {
      day++;
      h = mi = s = 0;
      continue;
    }
    if (hh !== h) {
      h = hh;
      mi = s = 0;
    }
    const mm = c.minute.next[mi];
    if (mm < 0) {
      h++;
      mi = s = 0;
      continue;
    }
    if (mm !== mi) {
      mi = mm;
      s = 0;
    }
    const ss = c.second.next[s];
    if (ss < 0) {
      mi++;
      s = 0;
      continue;
    }
    return Date.UTC(y, mo - 1, day, h, mi, ss) / 1000;
  }
}

/** The first wall-clock time (a zone-less DateTime in UTC) at or after `w` that matches. */
function nextWall(c: Cron, w: DateTime): DateTime | undefined {
  const s = nextWallTime(c, Math.floor(w.toMillis() / 1000));
  return s === undefined ? undefined : DateTime.fromMillis(s * 1000, { zone: 'utc' });
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

/** The first occurrence strictly after `after`, or undefined when the expression never matches a date. */
export function nextCronOccurrence(c: Cron, zone: string, after: Date): Date | undefined {
  const followsRealTime = c.hour.any || c.hour.values.length === 24;
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


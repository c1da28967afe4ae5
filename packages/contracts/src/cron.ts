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
import { IANAZone } from 'luxon';

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

const DAY = 86_400;

/** A change of a zone's UTC offset: from second `at` on, `after` instead of `before` (seconds). */
interface OffsetChange {
  at: number;
  before: number;
  after: number;
}

/**
 * A zone's UTC offsets, read from the platform's time zone data one day at a time and kept: the
 * offset at the start of each day, and the change within a day where the next day starts with
 * another offset (found to the second by bisection). Zones change their offset at most once a day.
 * Reading an offset costs microseconds; once read, it costs a map lookup.
 */
class ZoneOffsets {
  private readonly zone: IANAZone;
  private readonly dayStart = new Map<number, number>();
  private readonly changes = new Map<number, OffsetChange | null>();

  constructor(name: string) {
    this.zone = IANAZone.create(name);
    if (!this.zone.isValid) throw new RangeError(`"${name}" is not an IANA time zone`);
  }

  /** The offset at second t, in seconds. */
  offset(t: number): number {
    return this.zone.offset(t * 1000) * 60;
  }

  private startOfDay(k: number): number {
    let o = this.dayStart.get(k);
    if (o === undefined) {
      if (this.dayStart.size > 100_000) this.dayStart.clear();
      o = this.offset(k * DAY);
      this.dayStart.set(k, o);
    }
    return o;
  }

  /** The change within day k (seconds k·DAY to (k+1)·DAY], if there is one. */
  changeIn(k: number): OffsetChange | undefined {
    let c = this.changes.get(k);
    if (c === undefined) {
      const before = this.startOfDay(k);
      const after = this.startOfDay(k + 1);
      c = null;
      if (before !== after) {
        let lo = k * DAY;
        let hi = (k + 1) * DAY;
        while (hi - lo > 1) {
          const mid = Math.floor((lo + hi) / 2);
          if (this.offset(mid) === before) lo = mid;
          else hi = mid;
        }
        c = { at: hi, before, after };
      }
      if (this.changes.size > 100_000) this.changes.clear();
      this.changes.set(k, c);
    }
    return c ?? undefined;
  }

  /** The offset at second t, and the last change at or before t if it was within a day. */
  at(t: number): { offset: number; since?: OffsetChange } {
    const k = Math.floor(t / DAY);
    const today = this.changeIn(k);
    if (today && today.at <= t) return { offset: today.after, since: today };
    return { offset: today ? today.before : this.startOfDay(k), since: this.changeIn(k - 1) };
  }

  /**
   * The first change after second t and at or before `until`, if any. Over more than a month
   * (a sparse expression) spans of six days that start and end with the same offset are passed
   * over whole: a change and its reversal less than six days apart would not be seen (since 1970
   * the closest in any zone are a week apart: Brazil in October 2000).
   */
  nextChange(t: number, until: number): OffsetChange | undefined {
    const first = Math.floor(t / DAY);
    const last = Math.floor(until / DAY);
    const step = last - first > 31 ? 6 : 1;
    for (let k = first; k <= last; k += step) {
      const end = Math.min(k + step - 1, last);
      if (step > 1 && this.startOfDay(k) === this.startOfDay(end + 1)) continue;
      for (let j = k; j <= end; j++) {
        const c = this.changeIn(j);
        if (c && c.at > t && c.at <= until) return c;
      }
    }
    return undefined;
  }
}

const zones = new Map<string, ZoneOffsets>();
const offsetsOf = (name: string): ZoneOffsets => {
  let z = zones.get(name);
  if (!z) {
    z = new ZoneOffsets(name);
    zones.set(name, z);
  }
  return z;
};

/**
 * The first occurrence strictly after `after`, or undefined when the expression never matches a
 * date. Computed one stretch of constant UTC offset at a time: in a stretch with offset o the
 * first matching wall time at or after (t + o) gives the candidate instant; a stretch that begins
 * with the clocks going back skips the wall times it repeats (unless the hour field is a wildcard),
 * and one that begins with the clocks going forward adds the wall times that were skipped, at the
 * offset from before the change (again unless the hour is a wildcard). A candidate past the next
 * change of offset moves the search to that change.
 */
export function nextCronOccurrence(c: Cron, zone: string, after: Date): Date | undefined {
  const offsets = offsetsOf(zone);
  const followsRealTime = c.hour.any || c.hour.values.length === 24;
  let t = Math.floor(after.getTime() / 1000) + 1;
  if (!Number.isFinite(t)) throw new RangeError('nextCronOccurrence: `after` is not a valid date');
  for (;;) {
    const { offset, since } = offsets.at(t);
    let lowest = t + offset;
    let shifted: number | undefined;
    if (since && !followsRealTime) {
      // Clocks went back: the wall times from (since.at + offset) to (since.at + before) came first before the change.
      if (since.before > offset) lowest = Math.max(lowest, since.at + since.before);
      // Clocks went forward: a wall time skipped over runs at the offset from before the change.
      if (since.before < offset) {
        const w = nextWallTime(c, t + since.before);
        if (w !== undefined && w < since.at + offset) shifted = w - since.before;
      }
    }
    const w = nextWallTime(c, lowest);
    let candidate = w === undefined ? undefined : w - offset;
    if (shifted !== undefined && (candidate === undefined || shifted < candidate)) candidate = shifted;
    if (candidate === undefined) return undefined;
    const change = offsets.nextChange(t, candidate);
    if (!change) return new Date(candidate * 1000);
    t = change.at;
  }
}

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IANAZone } from 'luxon';
import { parseCron, nextCronOccurrence, nextOccurrence, occurrencesBetween, CronError } from '@pipewright/contracts';

const NY = 'America/New_York';
const series = (expr, zone, from, n) => {
  const c = parseCron(expr);
  const out = [];
  let t = new Date(from);
  for (let i = 0; i < n; i++) {
    const next = nextCronOccurrence(c, zone, t);
    assert.ok(next, `${expr} in ${zone}: occurrence ${i + 1} after ${from}`);
    out.push(next.toISOString());
    t = next;
  }
  return out;
};

test('cron fields: lists, ranges, steps, names, Sunday as 0 or 7, optional seconds', () => {
  assert.deepEqual(series('0 9 * * MON-FRI', 'UTC', '2026-05-01T09:00:00Z', 3), ['2026-05-04T09:00:00.000Z', '2026-05-05T09:00:00.000Z', '2026-05-06T09:00:00.000Z']);
  assert.deepEqual(series('0 0 * * 7', 'UTC', '2026-05-01T00:00:00Z', 1), ['2026-05-03T00:00:00.000Z']);
  assert.deepEqual(series('*/20 * * * * *', 'UTC', '2026-05-01T00:00:05Z', 3), ['2026-05-01T00:00:20.000Z', '2026-05-01T00:00:40.000Z', '2026-05-01T00:01:00.000Z']);
  assert.deepEqual(series('0 12 1,15 FEB *', 'UTC', '2026-01-01T00:00:00Z', 2), ['2026-02-01T12:00:00.000Z', '2026-02-15T12:00:00.000Z']);
  assert.throws(() => parseCron('0 25 * * *'), CronError);
  assert.throws(() => parseCron('0 9 * *'), CronError);
});

test('a daily 09:00 cron in a zone fires at 09:00 local time on both sides of a DST change', () => {
  // New York: EST (UTC-5) until 2026-03-08, EDT (UTC-4) after.
  assert.deepEqual(series('0 9 * * *', NY, '2026-03-06T15:00:00Z', 3), ['2026-03-07T14:00:00.000Z', '2026-03-08T13:00:00.000Z', '2026-03-09T13:00:00.000Z']);
});

test('spring forward in New York: a 02:30 job runs once on the switch day, at 03:30 EDT', () => {
  assert.deepEqual(series('30 2 * * *', NY, '2026-03-07T00:00:00Z', 3), ['2026-03-07T07:30:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-09T06:30:00.000Z']);
});

test('spring forward in New York: a half-hourly job follows real time, no run is lost or doubled', () => {
  // 01:30 EST is followed by 03:00 EDT, thirty real minutes later.
  assert.deepEqual(series('*/30 * * * *', NY, '2026-03-08T06:15:00Z', 4), ['2026-03-08T06:30:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-08T08:00:00.000Z']);
});

test('fall back in New York: a 01:30 job runs once, at the first 01:30 (EDT)', () => {
  assert.deepEqual(series('30 1 * * *', NY, '2026-10-31T00:00:00Z', 3), ['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
});

test('fall back in New York: a half-hourly job runs in both passes of the repeated hour, every 30 real minutes', () => {
  assert.deepEqual(series('*/30 * * * *', NY, '2026-11-01T04:45:00Z', 6), [
    '2026-11-01T05:00:00.000Z', // 01:00 EDT
    '2026-11-01T05:30:00.000Z', // 01:30 EDT
    '2026-11-01T06:00:00.000Z', // 01:00 EST
    '2026-11-01T06:30:00.000Z', // 01:30 EST
    '2026-11-01T07:00:00.000Z', // 02:00 EST
    '2026-11-01T07:30:00.000Z',
  ]);
});

test('intervals count from startAt (or the scheduled time) and stop at endAt', () => {
  const o = { spec: { everyMs: 1000 }, anchor: new Date('2026-01-01T00:00:00Z'), endAt: new Date('2026-01-01T00:00:03Z') };
  assert.equal(nextOccurrence(o, new Date('2026-01-01T00:00:00.500Z'))?.toISOString(), '2026-01-01T00:00:01.000Z');
  assert.deepEqual(occurrencesBetween(o, new Date('2025-12-31T23:59:59Z'), new Date('2026-01-02T00:00:00Z'), 100).map((d) => d.toISOString()),
    ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z']);
  const late = { spec: { cron: '0 * * * *', timezone: 'UTC' }, anchor: new Date('2026-01-01T00:00:00Z'), startAt: new Date('2026-01-01T05:00:00Z') };
  assert.equal(nextOccurrence(late, new Date('2026-01-01T00:00:00Z'))?.toISOString(), '2026-01-01T05:00:00.000Z');
});

const first = (expr, zone, from) => nextCronOccurrence(parseCron(expr), zone, new Date(from))?.toISOString();

test('nicknames: @yearly/@annually, @monthly, @weekly, @daily/@midnight, @hourly are their five-field forms', () => {
  const from = '2026-05-13T10:20:30Z';
  const same = { '@yearly': '0 0 1 1 *', '@annually': '0 0 1 1 *', '@monthly': '0 0 1 * *', '@weekly': '0 0 * * 0', '@daily': '0 0 * * *', '@midnight': '0 0 * * *', '@hourly': '0 * * * *' };
  for (const [nick, expr] of Object.entries(same)) {
    for (const zone of ['UTC', 'Europe/Paris']) assert.deepEqual(series(nick, zone, from, 4), series(expr, zone, from, 4), `${nick} in ${zone}`);
  }
  assert.deepEqual(series('@yearly', 'UTC', from, 2), ['2027-01-01T00:00:00.000Z', '2028-01-01T00:00:00.000Z']);
  assert.deepEqual(series('@weekly', 'UTC', from, 1), ['2026-05-17T00:00:00.000Z']);
  assert.deepEqual(series('@hourly', 'UTC', from, 2), ['2026-05-13T11:00:00.000Z', '2026-05-13T12:00:00.000Z']);
  assert.equal(first(' @Daily ', 'UTC', from), '2026-05-14T00:00:00.000Z');
  assert.throws(() => parseCron('@reboot'), (err) => err instanceof CronError && /"@reboot" is not a nickname: use @yearly, @annually, @monthly, @weekly, @daily, @midnight, @hourly/.test(err.message));
});

test('L in day-of-month is the last day of each month, leap years included', () => {
  assert.deepEqual(series('0 0 L * *', 'UTC', '2028-01-15T00:00:00Z', 3), ['2028-01-31T00:00:00.000Z', '2028-02-29T00:00:00.000Z', '2028-03-31T00:00:00.000Z']);
  assert.deepEqual(series('0 12 L 2 *', 'UTC', '2026-03-01T00:00:00Z', 3), ['2027-02-28T12:00:00.000Z', '2028-02-29T12:00:00.000Z', '2029-02-28T12:00:00.000Z']);
  assert.deepEqual(series('0 0 1,15,L * *', 'UTC', '2026-04-01T00:00:00Z', 3), ['2026-04-15T00:00:00.000Z', '2026-04-30T00:00:00.000Z', '2026-05-01T00:00:00.000Z']);
});

test('5L and 5#L in day-of-week are the last Friday of the month', () => {
  const fridays = ['2026-01-30T18:00:00.000Z', '2026-02-27T18:00:00.000Z', '2026-03-27T18:00:00.000Z', '2026-04-24T18:00:00.000Z', '2026-05-29T18:00:00.000Z'];
  assert.deepEqual(series('0 18 * * 5L', 'UTC', '2026-01-01T00:00:00Z', 5), fridays);
  assert.deepEqual(series('0 18 * * 5#L', 'UTC', '2026-01-01T00:00:00Z', 5), fridays);
  assert.deepEqual(series('0 18 ? * FRIL', 'UTC', '2026-01-01T00:00:00Z', 5), fridays);
  // Sunday as 7 too; and a list of last weekdays.
  assert.deepEqual(series('0 0 * * 7L', 'UTC', '2026-05-01T00:00:00Z', 1), ['2026-05-31T00:00:00.000Z']);
  assert.deepEqual(series('0 0 * * 1L,5L', 'UTC', '2026-05-01T00:00:00Z', 2), ['2026-05-25T00:00:00.000Z', '2026-05-29T00:00:00.000Z']);
});

test('W is the weekday nearest the day, within the month; LW the last weekday', () => {
  // 2026-08-01 is a Saturday: 1W is Monday the 3rd (not Friday 31 July).
  assert.equal(first('0 9 1W * *', 'UTC', '2026-07-31T00:00:00Z'), '2026-08-03T09:00:00.000Z');
  // 2026-02-15 is a Sunday: Monday the 16th. 2026-08-15 is a Saturday: Friday the 14th.
  assert.equal(first('0 9 15W * *', 'UTC', '2026-02-01T00:00:00Z'), '2026-02-16T09:00:00.000Z');
  assert.equal(first('0 9 15W * *', 'UTC', '2026-08-01T00:00:00Z'), '2026-08-14T09:00:00.000Z');
  // 2026-05-31 is a Sunday: 31W is Friday the 29th (not Monday 1 June); months without a 31st are skipped.
  assert.deepEqual(series('0 9 31W * *', 'UTC', '2026-04-01T00:00:00Z', 2), ['2026-05-29T09:00:00.000Z', '2026-07-31T09:00:00.000Z']);
  // LW: 2026-01-31 is a Saturday, 2026-05-31 a Sunday.
  assert.deepEqual(series('0 9 LW * *', 'UTC', '2026-01-01T00:00:00Z', 5), ['2026-01-30T09:00:00.000Z', '2026-02-27T09:00:00.000Z', '2026-03-31T09:00:00.000Z', '2026-04-30T09:00:00.000Z', '2026-05-29T09:00:00.000Z']);
  assert.equal(first('0 9 15w * *', 'UTC', '2026-02-01T00:00:00Z'), '2026-02-16T09:00:00.000Z');
});

test('# is the nth weekday of the month (1-5); a fifth Monday comes only in some months', () => {
  assert.deepEqual(series('0 10 * * 1#2', 'UTC', '2026-01-01T00:00:00Z', 3), ['2026-01-12T10:00:00.000Z', '2026-02-09T10:00:00.000Z', '2026-03-09T10:00:00.000Z']);
  assert.deepEqual(series('0 10 ? * MON#5', 'UTC', '2026-01-01T00:00:00Z', 3), ['2026-03-30T10:00:00.000Z', '2026-06-29T10:00:00.000Z', '2026-08-31T10:00:00.000Z']);
  assert.deepEqual(series('0 10 ? * 2#1,4#3', 'UTC', '2026-01-01T00:00:00Z', 2), ['2026-01-06T10:00:00.000Z', '2026-01-15T10:00:00.000Z']);
  // A fifth Monday in February: a leap year whose 1 February is a Monday, 28 or 40 years apart.
  assert.deepEqual(series('0 0 ? 2 1#5', 'UTC', '2026-01-01T00:00:00Z', 3), ['2044-02-29T00:00:00.000Z', '2072-02-29T00:00:00.000Z', '2112-02-29T00:00:00.000Z']);
});

test('? stands for any in every field; both day fields restricted match either (also with L, W and #)', () => {
  assert.deepEqual(series('0 0 ? * MON', 'UTC', '2026-05-01T00:00:00Z', 1), series('0 0 * * MON', 'UTC', '2026-05-01T00:00:00Z', 1));
  assert.deepEqual(series('0 0 1 * ?', 'UTC', '2026-05-02T00:00:00Z', 1), ['2026-06-01T00:00:00.000Z']);
  assert.deepEqual(series('0 0 L * 5L', 'UTC', '2026-01-01T00:00:00Z', 3), ['2026-01-30T00:00:00.000Z', '2026-01-31T00:00:00.000Z', '2026-02-27T00:00:00.000Z']);
  assert.deepEqual(series('0 0 15W * 1#1', 'UTC', '2026-02-01T00:00:00Z', 3), ['2026-02-02T00:00:00.000Z', '2026-02-16T00:00:00.000Z', '2026-03-02T00:00:00.000Z']);
});

test('a cron that never matches a date has no occurrence; a rare one is found however far', () => {
  for (const expr of ['0 0 31 2 *', '0 0 30 2 *', '0 0 31 4,6,9,11 *', '0 0 30W 2 *']) assert.equal(first(expr, 'UTC', '2026-01-01T00:00:00Z'), undefined, expr);
  assert.equal(first('0 0 29 2 *', 'UTC', '2096-03-01T00:00:00Z'), '2104-02-29T00:00:00.000Z');
});

test('the special characters and nicknames keep the documented DST behaviour', () => {
  // 2026-03-08 is New York's second Sunday of March (spring forward at 02:00): 02:30 runs at 03:30 EDT.
  assert.equal(first('30 2 ? 3 0#2', NY, '2026-03-01T00:00:00Z'), '2026-03-08T07:30:00.000Z');
  // 2026-11-01 is its first Sunday of November (fall back at 02:00): 01:30 runs once, at 01:30 EDT.
  assert.deepEqual(series('30 1 ? 11 SUN#1', NY, '2026-10-01T00:00:00Z', 2), ['2026-11-01T05:30:00.000Z', '2027-11-07T05:30:00.000Z']);
  // @hourly has a wildcard hour: it follows real time through both changes.
  assert.deepEqual(series('@hourly', NY, '2026-11-01T04:30:00Z', 4), ['2026-11-01T05:00:00.000Z', '2026-11-01T06:00:00.000Z', '2026-11-01T07:00:00.000Z', '2026-11-01T08:00:00.000Z']);
  assert.deepEqual(series('@hourly', NY, '2026-03-08T05:30:00Z', 3), ['2026-03-08T06:00:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-08T08:00:00.000Z']);
  // @daily at midnight where the clocks change at midnight (Santiago springs forward at 00:00 on 2026-09-06).
  assert.equal(first('@daily', 'America/Santiago', '2026-09-05T05:00:00Z'), '2026-09-06T04:00:00.000Z');
});

test('special characters where they do not belong are refused, saying what is accepted', () => {
  const refused = {
    '0 0 * * L': /day-of-week: L needs a day before it \(5L is the last Friday of the month\)/,
    '0 0 * * 1#6': /day-of-week: "1#6" needs 1-5 or L after #/,
    '0 0 * * 1#0': /day-of-week: "1#0" needs 1-5 or L after #/,
    '0 0 * * 8L': /day-of-week: 8 is outside 0-7/,
    '0 0 L/2 * *': /day-of-month: "L\/2" is not a day, L, LW or a day with W/,
    '0 0 W * *': /day-of-month: "W" is not a day, L, LW or a day with W/,
    '0 0 32W * *': /day-of-month: 32 is outside 1-31/,
    '0 0 L-2 * *': /day-of-month: "L-2" is not a day, L, LW or a day with W/,
    '0 L * * *': /hour: "L" is not a number/,
    '0 0 * 1#2 *': /month: "1#2" is not a number/,
    '0 0 1 * * * *': /expected 5 or 6 fields, got 7/,
  };
  for (const [expr, message] of Object.entries(refused)) assert.throws(() => parseCron(expr), (err) => err instanceof CronError && message.test(err.message), expr);
});

// Across clock changes, field by field: the occurrences the documented rules give, for dense
// and sparse expressions, in zones whose clocks move by 30 minutes, an hour or two, at midnight.

const occurrences = (expr, zone, from, until) => {
  const c = parseCron(expr);
  const out = [];
  for (let t = new Date(from); ; ) {
    const next = nextCronOccurrence(c, zone, t);
    if (!next || next.getTime() > Date.parse(until)) return out;
    out.push(next.getTime());
    t = next;
  }
};
const steps = (xs) => new Set(xs.slice(1).map((x, i) => x - xs[i]));

test('every second through an autumn change in London follows real time: 7,200 occurrences one second apart', () => {
  const xs = occurrences('*/1 * * * * *', 'Europe/London', '2027-10-31T00:30:00Z', '2027-10-31T02:30:00Z');
  assert.equal(xs.length, 7200);
  assert.equal(new Date(xs[0]).toISOString(), '2027-10-31T00:30:01.000Z');
  assert.deepEqual([...steps(xs)], [1000]);
  const minutes = occurrences('0 * * * * *', 'Europe/London', '2027-10-31T00:30:00Z', '2027-10-31T02:30:00Z');
  assert.equal(minutes.length, 120);
  assert.deepEqual([...steps(minutes)], [60_000]);
});

test('every second of a repeated hour runs once, in its first pass; of a skipped hour, once, an hour later', () => {
  // London, 2027-10-31: 01:00-01:59 BST (00:00Z-00:59Z), then 01:00-01:59 GMT (01:00Z-01:59Z).
  const back = occurrences('* * 1 * * *', 'Europe/London', '2027-10-30T23:00:00Z', '2027-11-01T00:59:59Z');
  assert.equal(back.length, 3600);
  assert.equal(new Date(back[0]).toISOString(), '2027-10-31T00:00:00.000Z');
  assert.equal(new Date(back[back.length - 1]).toISOString(), '2027-10-31T00:59:59.000Z');
  assert.equal(first('* * 1 * * *', 'Europe/London', '2027-10-31T00:59:59Z'), '2027-11-01T01:00:00.000Z');
  // London, 2027-03-28: 01:00 GMT becomes 02:00 BST; each second of 01:xx runs as 02:xx BST.
  const forward = occurrences('* * 1 * * *', 'Europe/London', '2027-03-28T00:00:00Z', '2027-03-28T23:59:59Z');
  assert.equal(forward.length, 3600);
  assert.equal(new Date(forward[0]).toISOString(), '2027-03-28T01:00:00.000Z');
  assert.deepEqual([...steps(forward)], [1000]);
  assert.equal(first('*/15 2 * * *', NY, '2026-03-08T06:59:00Z'), '2026-03-08T07:00:00.000Z');
  assert.deepEqual(occurrences('*/15 2 * * *', NY, '2026-03-08T00:00:00Z', '2026-03-08T23:00:00Z').map((t) => new Date(t).toISOString()),
    ['2026-03-08T07:00:00.000Z', '2026-03-08T07:15:00.000Z', '2026-03-08T07:30:00.000Z', '2026-03-08T07:45:00.000Z']);
});

test('a 30-minute change (Lord Howe): skipped times run half an hour later, repeated ones once unless the hour is a wildcard', () => {
  // 2026-10-04 02:00 (+10:30) becomes 02:30 (+11).
  assert.deepEqual(series('0,15 2 * * *', 'Australia/Lord_Howe', '2026-10-03T12:00:00Z', 3), ['2026-10-03T15:30:00.000Z', '2026-10-03T15:45:00.000Z', '2026-10-04T15:00:00.000Z']);
  // 2026-04-05 02:00 (+11) becomes 01:30 (+10:30): 01:30-01:59 come twice.
  assert.deepEqual(series('*/10 1 * * *', 'Australia/Lord_Howe', '2026-04-04T13:59:00Z', 7), [
    '2026-04-04T14:00:00.000Z', '2026-04-04T14:10:00.000Z', '2026-04-04T14:20:00.000Z', '2026-04-04T14:30:00.000Z', '2026-04-04T14:40:00.000Z', '2026-04-04T14:50:00.000Z',
    '2026-04-05T14:30:00.000Z',
  ]);
  const real = occurrences('*/10 * * * *', 'Australia/Lord_Howe', '2026-04-04T14:20:00Z', '2026-04-04T15:30:00Z');
  assert.equal(real.length, 7);
  assert.deepEqual([...steps(real)], [600_000]);
});

test('two-hour (Troll) and southern (Sydney) changes follow the same rules', () => {
  // Antarctica/Troll, 2026-03-29 01:00 UTC (+00) becomes 03:00 (+02).
  assert.equal(first('30 1 * * *', 'Antarctica/Troll', '2026-03-29T00:00:00Z'), '2026-03-29T01:30:00.000Z');
  assert.equal(first('30 2 * * *', 'Antarctica/Troll', '2026-03-29T00:00:00Z'), '2026-03-29T02:30:00.000Z');
  assert.equal(first('30 3 * * *', 'Antarctica/Troll', '2026-03-29T00:00:00Z'), '2026-03-29T01:30:00.000Z');
  // Sydney, 2026-10-04 02:00 AEST becomes 03:00 AEDT: 02:30 runs at 03:30 AEDT.
  assert.deepEqual(series('30 2 * * *', 'Australia/Sydney', '2026-10-02T00:00:00Z', 3), ['2026-10-02T16:30:00.000Z', '2026-10-03T16:30:00.000Z', '2026-10-04T15:30:00.000Z']);
});

test('sparse expressions across many changes: a July morning and New Year stay on local time for years', () => {
  assert.deepEqual(series('0 9 1 7 *', 'Europe/London', '2026-01-01T00:00:00Z', 3), ['2026-07-01T08:00:00.000Z', '2027-07-01T08:00:00.000Z', '2028-07-01T08:00:00.000Z']);
  assert.deepEqual(series('@yearly', 'America/Santiago', '2026-01-01T00:00:00Z', 2), ['2026-01-01T03:00:00.000Z', '2027-01-01T03:00:00.000Z']);
  assert.deepEqual(series('0 12 ? 2 MON#5', NY, '2026-01-01T00:00:00Z', 2), ['2044-02-29T17:00:00.000Z', '2072-02-29T17:00:00.000Z']);
});

/**
 * The occurrences in (from, until] by the documented rules, minute by minute of real time: an
 * instant whose wall time matches runs, except in the second pass of a repeated time (unless the
 * hour field is a wildcard); a wall time skipped by the clocks going forward runs at the offset
 * from before the change (unless the hour field is a wildcard). `offsets[i]` is the zone's
 * offset (ms) at from - 2 h + i minutes.
 */
function byTheRules(expr, offsets, from, until) {
  const c = parseCron(expr);
  const realTime = c.hour.any || c.hour.values.length === 24;
  // A wall time matches when it is its own next matching wall time (read in UTC).
  const matches = (wallMs) => nextCronOccurrence(c, 'UTC', new Date(wallMs - 1000))?.getTime() === wallMs;
  const base = from - 120 * 60_000;
  const out = new Set();
  for (let i = 120; base + i * 60_000 <= until; i++) {
    const u = base + i * 60_000;
    const wall = u + offsets[i];
    // The same wall time earlier, at a larger offset: the first pass of a repeated time.
    const repeated = [30, 60, 120].some((m) => u - m * 60_000 + offsets[i - m] === wall);
    if (matches(wall) && (realTime || !repeated)) out.add(u);
    // Clocks go forward at u: the wall times [u + before, u + after) are skipped.
    if (!realTime && offsets[i] > offsets[i - 1]) {
      for (let w = u + offsets[i - 1]; w < u + offsets[i]; w += 60_000) if (matches(w)) out.add(w - offsets[i - 1]);
    }
  }
  return [...out].filter((t) => t > from && t <= until).sort((a, b) => a - b);
}

test('around every clock change of 2026-2027 in nine zones, the occurrences are those the rules give, minute by minute', () => {
  const zones = ['America/New_York', 'Europe/London', 'Australia/Sydney', 'Australia/Lord_Howe', 'America/Santiago', 'Pacific/Chatham', 'Antarctica/Troll', 'America/Havana', 'Asia/Gaza'];
  const exprs = ['30 2 * * *', '*/30 * * * *', '0 1-3 * * *', '0,45 2,3 * * *', '*/5 * * * *', '0 */2 * * *', '30 1 * * *', '0 0 * * *', '15,45 0-3 * * *', '*/10 2 * * *', '0 0,30 0-3 * * *', '@hourly', '*/7 * * * *'];
  let changes = 0;
  let compared = 0;
  for (const zone of zones) {
    const z = IANAZone.create(zone);
    for (let day = Date.UTC(2026, 0, 1); day < Date.UTC(2028, 0, 1); day += 86_400_000) {
      if (z.offset(day) === z.offset(day + 86_400_000)) continue;
      changes++;
      // Four hours either side of the change, found to the minute.
      let at = day;
      while (z.offset(at) === z.offset(day)) at += 60_000;
      const from = at - 4 * 3600_000;
      const until = at + 4 * 3600_000;
      const offsets = Array.from({ length: 10 * 60 + 1 }, (_, i) => z.offset(from - 120 * 60_000 + i * 60_000) * 60_000);
      for (const expr of exprs) {
        const expected = byTheRules(expr, offsets, from, until);
        const actual = occurrences(expr, zone, new Date(from).toISOString(), new Date(until).toISOString());
        assert.deepEqual(actual.map((t) => new Date(t).toISOString()), expected.map((t) => new Date(t).toISOString()), `${expr} in ${zone} around ${new Date(at).toISOString()}`);
        compared += actual.length;
      }
    }
  }
  assert.ok(changes >= 30, `${changes} clock changes`);
  assert.ok(compared > 5000, `${compared} occurrences`);
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCron, nextCronOccurrence, nextOccurrence, occurrencesBetween, CronError } from '@pipewright/contracts';

const NY = 'America/New_York';
const series = (expr, zone, from, n) => {
  const c = parseCron(expr);
  const out = [];
  let t = new Date(from);
  for (let i = 0; i < n; i++) {
    t = nextCronOccurrence(c, zone, t);
    out.push(t.toISOString());
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
  assert.equal(nextOccurrence(o, new Date('2026-01-01T00:00:00.500Z')).toISOString(), '2026-01-01T00:00:01.000Z');
  assert.deepEqual(occurrencesBetween(o, new Date('2025-12-31T23:59:59Z'), new Date('2026-01-02T00:00:00Z'), 100).map((d) => d.toISOString()),
    ['2026-01-01T00:00:00.000Z', '2026-01-01T00:00:01.000Z', '2026-01-01T00:00:02.000Z', '2026-01-01T00:00:03.000Z']);
  const late = { spec: { cron: '0 * * * *', timezone: 'UTC' }, anchor: new Date('2026-01-01T00:00:00Z'), startAt: new Date('2026-01-01T05:00:00Z') };
  assert.equal(nextOccurrence(late, new Date('2026-01-01T00:00:00Z')).toISOString(), '2026-01-01T05:00:00.000Z');
});

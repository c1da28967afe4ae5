import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateJobRequest, JobRequestError, jobRequestKey } from '@pipewright/contracts';

const opts = { defaultZone: 'UTC', now: new Date('2026-03-01T00:00:00Z') };

test('a minimal request gets a generated requestId, normal priority and now as its time', () => {
  const r = validateJobRequest({ appName: 'sms' }, opts);
  assert.match(r.requestId, /^[0-9a-f-]{36}$/);
  assert.equal(r.priority, 'normal');
  assert.equal(r.scheduledTime.toISOString(), '2026-03-01T00:00:00.000Z');
  assert.deepEqual(r.jobData, {});
});

test('scheduledTime with an offset or Z is an instant', () => {
  assert.equal(validateJobRequest({ appName: 'a', scheduledTime: '2026-06-01T09:00:00+02:00' }, opts).scheduledTime.toISOString(), '2026-06-01T07:00:00.000Z');
  assert.equal(validateJobRequest({ appName: 'a', scheduledTime: '2026-06-01T09:00:00Z' }, opts).scheduledTime.toISOString(), '2026-06-01T09:00:00.000Z');
});

test('scheduledTime without an offset is read in the default zone', () => {
  const r = validateJobRequest({ appName: 'a', scheduledTime: '2026-06-01T09:00:00' }, { ...opts, defaultZone: 'America/New_York' });
  assert.equal(r.scheduledTime.toISOString(), '2026-06-01T13:00:00.000Z');
});

test('every bad field is named in one error', () => {
  assert.throws(
    () => validateJobRequest({ appName: 'has space', scheduledTime: 'soon', priority: 'urgent', jobData: [1], maxRetries: -1 }, opts),
    (err) => {
      assert.ok(err instanceof JobRequestError);
      assert.deepEqual(err.problems.map((p) => p.field).sort(), ['appName', 'jobData', 'maxRetries', 'priority', 'scheduledTime']);
      return true;
    },
  );
});

test('an app outside the known list is refused', () => {
  assert.throws(() => validateJobRequest({ appName: 'fax' }, { ...opts, apps: new Set(['sms']) }), /appName: unknown app "fax"/);
});

test('a cron schedule takes a time zone (UTC by default) and defaults to fire_once and skip', () => {
  const r = validateJobRequest({ appName: 'sms', schedule: { cron: '0 9 * * 1-5' } }, opts);
  assert.deepEqual(r.schedule, { cron: '0 9 * * 1-5', timezone: 'UTC' });
  assert.equal(r.misfirePolicy, 'fire_once');
  assert.equal(r.overlapPolicy, 'skip');
  const p = validateJobRequest({ appName: 'sms', schedule: { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' }, misfirePolicy: 'catch_up', overlapPolicy: 'buffer_one' }, opts);
  assert.deepEqual(p.schedule, { cron: '0 9 * * 1-5', timezone: 'Europe/Paris' });
  assert.equal(p.misfirePolicy, 'catch_up');
  assert.equal(p.overlapPolicy, 'buffer_one');
});

test('an invalid cron, an unknown zone, a tiny interval and reversed bounds are each named', () => {
  const fields = (input) => {
    try {
      validateJobRequest(input, opts);
      return [];
    } catch (err) {
      assert.ok(err instanceof JobRequestError, `a JobRequestError, not ${err}`);
      return err.problems.map((p) => p.field);
    }
  };
  assert.deepEqual(fields({ appName: 'a', schedule: { cron: '61 * * * *' } }), ['schedule.cron']);
  assert.deepEqual(fields({ appName: 'a', schedule: { cron: '* * *' } }), ['schedule.cron']);
  assert.deepEqual(fields({ appName: 'a', schedule: { cron: '0 9 * * *', timezone: 'Mars/Olympus' } }), ['schedule.timezone']);
  assert.deepEqual(fields({ appName: 'a', schedule: { everyMs: 5 } }), ['schedule.everyMs']);
  assert.deepEqual(fields({ appName: 'a', schedule: { everyMs: 1000 }, startAt: '2026-05-02T00:00:00Z', endAt: '2026-05-01T00:00:00Z' }), ['endAt']);
  assert.deepEqual(fields({ appName: 'a', startAt: '2026-05-02T00:00:00Z' }), ['startAt']);
  assert.deepEqual(fields({ appName: 'a', schedule: { everyMs: 1000 }, misfirePolicy: 'whenever', overlapPolicy: 'pile_up' }), ['misfirePolicy', 'overlapPolicy']);
});

test('the Kafka key is the idempotency key, else the request id, so that one app\'s jobs spread over partitions', () => {
  assert.equal(jobRequestKey({ requestId: 'r-1', idempotencyKey: 'order-1' }), 'order-1');
  assert.equal(jobRequestKey({ requestId: 'r-1' }), 'r-1');
});

const problemsOf = (input, o = opts) => {
  try {
    validateJobRequest(input, o);
    return [];
  } catch (err) {
    if (!(err instanceof JobRequestError)) throw err;
    return err.problems;
  }
};

test('a cron that never matches a date is refused naming schedule.cron, whatever the bounds', () => {
  for (const cron of ['0 0 31 2 *', '0 0 30 2 *', '0 0 31 4,6,9,11 *', '0 0 0 31 2 *', '0 0 30-31 FEB *', '0 0 30W 2 *']) {
    assert.deepEqual(problemsOf({ appName: 'a', schedule: { cron } }), [{ field: 'schedule.cron', problem: `"${cron}" never matches a date` }], cron);
    assert.deepEqual(
      problemsOf({ appName: 'a', schedule: { cron, timezone: 'Europe/Paris' }, startAt: '2026-05-01T00:00:00Z', endAt: '2026-06-01T00:00:00Z' }),
      [{ field: 'schedule.cron', problem: `"${cron}" never matches a date` }],
      `${cron} with bounds`,
    );
  }
  // 29 February comes round in leap years; a day-of-week makes the 31st of February one of them.
  assert.deepEqual(problemsOf({ appName: 'a', schedule: { cron: '0 0 29 2 *' } }), []);
  assert.deepEqual(problemsOf({ appName: 'a', schedule: { cron: '0 0 31 2 MON' } }), []);
  // A fifth Monday in February comes round every 28 or 40 years.
  assert.deepEqual(problemsOf({ appName: 'a', schedule: { cron: '0 0 ? 2 MON#5' } }), []);
});

test('a schedule with no occurrence inside its bounds is refused naming endAt, and says between what', () => {
  const daily9 = { cron: '0 0 9 * * *', timezone: 'UTC' };
  assert.deepEqual(problemsOf({ appName: 'a', schedule: daily9, startAt: '2030-06-15T10:00:00Z', endAt: '2030-06-15T10:01:00Z' }),
    [{ field: 'endAt', problem: 'the schedule has no occurrence between startAt and endAt' }]);
  // The first occurrence is at or after scheduledTime too.
  assert.deepEqual(problemsOf({ appName: 'a', schedule: daily9, scheduledTime: '2030-06-15T10:00:00Z', startAt: '2030-06-01T00:00:00Z', endAt: '2030-06-16T08:00:00Z' }),
    [{ field: 'endAt', problem: 'the schedule has no occurrence between scheduledTime and endAt' }]);
  assert.deepEqual(problemsOf({ appName: 'a', schedule: { everyMs: 60_000 }, endAt: '2026-02-01T00:00:00Z' }),
    [{ field: 'endAt', problem: 'the schedule has no occurrence between now and endAt' }]);
  // An occurrence exactly at endAt counts.
  assert.deepEqual(problemsOf({ appName: 'a', schedule: daily9, startAt: '2030-06-15T00:00:00Z', endAt: '2030-06-15T09:00:00Z' }), []);
});

test('appName outside ASCII letters, digits, ".", "_" and "-" is refused saying ASCII', () => {
  for (const appName of ['café', 'has space', 'ｓｍｓ']) {
    assert.deepEqual(problemsOf({ appName }), [{ field: 'appName', problem: 'may contain only ASCII letters, digits, ".", "_" and "-"' }], appName);
  }
});

test('an instant with an offset reads as luxon reads it, an impossible day included', async () => {
  const { DateTime } = await import('luxon');
  const luxon = (s) => {
    const dt = DateTime.fromISO(s, { zone: 'UTC', setZone: true });
    return dt.isValid ? dt.toJSDate().getTime() : undefined;
  };
  const p = (n, w = 2) => String(n).padStart(w, '0');
  const samples = ['2026-02-30T09:00:00Z', '2026-12-01T24:00:00Z', '2026-12-01T09:00:60Z', '2026-12-01T09:00:00.123456789+05:45', '2024-02-29T23:59:59.999-14:00'];
  for (let i = 0; i < 3000; i++) {
    const off = ['Z', '+05:45', '-03:00', '+14:00'][i % 4];
    samples.push(`${2000 + (i % 60)}-${p(1 + (i % 12))}-${p(1 + ((i * 7) % 31))}T${p(i % 25)}:${p((i * 13) % 60)}:${p((i * 17) % 61)}.${p(i % 1000, 3)}${off}`);
  }
  for (const s of samples) {
    let ours;
    try {
      ours = validateJobRequest({ appName: 'a', scheduledTime: s }, { defaultZone: 'UTC' }).scheduledTime.getTime();
    } catch (err) {
      if (!(err instanceof JobRequestError)) throw err;
    }
    assert.equal(ours, luxon(s), s);
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planFiring } from '../dist/plan.js';

const T = (s) => new Date(`2026-01-01T${s}Z`);
const ctx = (now, extra = {}) => ({ now: T(now), hasActiveRun: false, hasPendingRun: false, misfireThresholdMs: 60_000, defaultCatchUpWindowMs: 3_600_000, maxOccurrences: 1000, ...extra });
/** @typedef {import('../dist/plan.js').DueJob} DueJob */
/** @param {Partial<DueJob>} [extra] @returns {DueJob} */
const every10min = (extra = {}) => ({ spec: { everyMs: 600_000 }, anchor: T('00:00:00'), dueAt: T('00:00:00'), misfirePolicy: 'fire_once', overlapPolicy: 'skip', ...extra });
const iso = (ds) => ds.map((d) => d.toISOString().slice(11, 19));

test('an occurrence on time fires and the next one is computed', () => {
  const p = planFiring(every10min(), ctx('00:00:00.005'));
  assert.deepEqual(iso(p.fire), ['00:00:00']);
  assert.deepEqual(p.skip, []);
  assert.equal(iso([p.next])[0], '00:10:00');
});

test('after an outage, fire_once fires the latest missed occurrence once and skips the rest', () => {
  const p = planFiring(every10min(), ctx('00:45:00'));
  assert.deepEqual(iso(p.fire), ['00:40:00']);
  assert.deepEqual(iso(p.skip.map((s) => s.at)), ['00:00:00', '00:10:00', '00:20:00', '00:30:00']);
  assert.ok(p.skip.every((s) => s.reason === 'misfire'));
  assert.equal(iso([p.next])[0], '00:50:00');
});

test('after an outage, skip fires nothing that is late and waits for the next occurrence', () => {
  const p = planFiring(every10min({ misfirePolicy: 'skip' }), ctx('00:45:00'));
  assert.deepEqual(p.fire, []);
  assert.equal(p.skip.length, 5);
  assert.equal(iso([p.next])[0], '00:50:00');
});

test('after an outage, catch_up fires every occurrence inside the window, oldest first', () => {
  const p = planFiring(every10min({ misfirePolicy: 'catch_up', overlapPolicy: 'allow', catchUpWindowMs: 25 * 60_000 }), ctx('00:45:00'));
  assert.deepEqual(iso(p.fire), ['00:20:00', '00:30:00', '00:40:00']);
  assert.deepEqual(iso(p.skip.map((s) => s.at)), ['00:00:00', '00:10:00']);
});

test('overlap skip: while a run is active the occurrence is skipped', () => {
  const p = planFiring(every10min(), ctx('00:00:00.010', { hasActiveRun: true }));
  assert.deepEqual(p.fire, []);
  assert.deepEqual(p.skip.map((s) => s.reason), ['overlap']);
});

test('overlap buffer_one: one occurrence waits for the active run, further ones are skipped', () => {
  const first = planFiring(every10min({ overlapPolicy: 'buffer_one' }), ctx('00:00:00.010', { hasActiveRun: true }));
  assert.deepEqual(first.fire, []);
  assert.equal(iso([first.pend])[0], '00:00:00');
  const second = planFiring(every10min({ overlapPolicy: 'buffer_one', dueAt: T('00:10:00') }), ctx('00:10:00.010', { hasActiveRun: true, hasPendingRun: true }));
  assert.equal(second.pend, undefined);
  assert.deepEqual(second.skip.map((s) => s.reason), ['overlap']);
});

test('overlap allow: occurrences fire even while a run is active', () => {
  const p = planFiring(every10min({ overlapPolicy: 'allow' }), ctx('00:00:00.010', { hasActiveRun: true }));
  assert.deepEqual(iso(p.fire), ['00:00:00']);
});

test('a one-shot job fires late under fire_once and is skipped under skip', () => {
  /** @type {DueJob} */
  const once = { anchor: T('00:00:00'), dueAt: T('00:00:00'), misfirePolicy: 'fire_once', overlapPolicy: 'skip' };
  assert.equal(planFiring(once, ctx('02:00:00')).fire.length, 1);
  const skipped = planFiring({ ...once, misfirePolicy: 'skip' }, ctx('02:00:00'));
  assert.deepEqual(skipped.fire, []);
  assert.equal(skipped.skip[0].reason, 'misfire');
  assert.equal(skipped.next, undefined);
});

test('a frequent schedule down for long lists the first 1000 skipped occurrences and counts the rest', () => {
  const p = planFiring({ spec: { everyMs: 1000 }, anchor: T('00:00:00'), dueAt: T('00:00:00'), misfirePolicy: 'skip', overlapPolicy: 'skip' }, ctx('01:00:00'));
  assert.equal(p.skip.length + p.uncounted + p.fire.length, 3601);
  assert.equal(p.skip.length, 1000 - p.fire.length);
});

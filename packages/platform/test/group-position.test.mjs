// How far a consumer group has read, answered from one look-up of the topic's ends and the
// group's committed offsets, shared by concurrent callers and reused for a short while: polling
// GetJob callers do not multiply the broker's ListOffsets and OffsetFetch requests. The
// look-up here is a plain function (the Kafka one is exercised by test/http-door.test.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { positionReader, SharedLookup } from '@pipewright/platform';

/**
 * A look-up that counts its calls and answers what `state` holds when it is called.
 * @param {{ ends: number[], committed: number[], fail?: string }} state
 */
function counted(state) {
  const lookup = async () => {
    lookup.calls += 1;
    if (state.fail) throw new Error(state.fail);
    return { ends: state.ends.map((high, partition) => ({ partition, high: String(high) })), committed: state.committed.map((offset, partition) => ({ partition, offset: String(offset) })) };
  };
  lookup.calls = 0;
  return lookup;
}

/** A clock the test moves. */
function clock() {
  const c = { t: 1_000_000, now: () => c.t };
  return c;
}

test('concurrent callers share one look-up', async () => {
  const lookup = counted({ ends: [10, 10], committed: [5, 0] });
  const readPast = positionReader('t', lookup, { ttlMs: 250, now: clock().now });
  const answers = await Promise.all([readPast(0, 3), readPast(0, 7), readPast(1, 0), readPast(0, 4)]);
  assert.deepEqual(answers, [true, false, false, true]);
  assert.equal(lookup.calls, 1);
});

test('a look-up is reused for 250 ms after it answered, then made again', async () => {
  const state = { ends: [10], committed: [5] };
  const lookup = counted(state);
  const c = clock();
  const readPast = positionReader('t', lookup, { ttlMs: 250, now: c.now });
  assert.equal(await readPast(0, 6), false);
  state.committed = [8];
  c.t += 249;
  assert.equal(await readPast(0, 6), false, 'still the position of the first look-up');
  assert.equal(lookup.calls, 1);
  c.t += 1;
  assert.equal(await readPast(0, 6), true, 'the group read on');
  assert.equal(lookup.calls, 2);
});

test('a failed look-up is not kept: the next caller looks again', async () => {
  /** @type {{ ends: number[], committed: number[], fail?: string }} */
  const state = { ends: [10], committed: [5], fail: 'broker away' };
  const lookup = counted(state);
  const readPast = positionReader('t', lookup, { ttlMs: 250, now: clock().now });
  await assert.rejects(readPast(0, 1), /broker away/);
  state.fail = undefined;
  assert.equal(await readPast(0, 1), true);
  assert.equal(lookup.calls, 2);
});

test('an offset written after the kept look-up is looked up again, not refused as never written', async () => {
  const state = { ends: [10], committed: [10] };
  const lookup = counted(state);
  const readPast = positionReader('t', lookup, { ttlMs: 250, now: clock().now });
  assert.equal(await readPast(0, 9), true);
  state.ends = [12];
  assert.equal(await readPast(0, 11), false, 'written at 11 since, not read yet: NEW');
  assert.equal(lookup.calls, 2);
});

test('a partition the topic does not have, or an offset never written, is INVALID_ARGUMENT naming the field', async () => {
  const lookup = counted({ ends: [10, 10], committed: [5, 5] });
  const readPast = positionReader('t', lookup, { ttlMs: 250, now: clock().now });
  /** @param {string} field @param {RegExp} says */
  const invalid = (field, says) => (/** @type {any} */ err) => err.code === 3 && err.message.startsWith(`${field}: `) && says.test(err.message);
  await assert.rejects(readPast(2, 0), invalid('partition', /partitions 0 to 1/));
  await assert.rejects(readPast(0, 10), invalid('offset', /up to 9/));
  await assert.rejects(readPast(0, -1), invalid('offset', /up to 9/));
});

test('SharedLookup: a look-up still under way is shared however long it takes', async () => {
  const c = clock();
  let calls = 0;
  /** @type {() => void} */
  let finish = () => {};
  const shared = new SharedLookup(
    () => {
      calls += 1;
      return new Promise((resolve) => (finish = () => resolve(calls)));
    },
    250,
    c.now,
  );
  const first = shared.get();
  c.t += 10_000;
  const second = shared.get();
  finish();
  assert.deepEqual(await Promise.all([first, second]), [1, 1]);
  assert.equal(calls, 1);
});

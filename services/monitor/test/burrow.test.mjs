// Burrow's status rules over a partition's commit window, the lag in seconds interpolated from
// log-end readings, and the commit records of __consumer_offsets as the broker writes them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { groupStatus, lagSeconds, partitionStatus } from '../dist/burrow.js';
import { decodeOffsetRecord } from '../dist/offsets.js';

const NOW = 1_000_000;
/** Commits one second apart ending at `end` ms, from offsets and lags. */
const window = (offsets, lags, end = NOW) => offsets.map((offset, i) => ({ offset, lag: lags[i], time: end - (offsets.length - 1 - i) * 1000 }));

test('a partition within the allowed lag is OK, whatever its commits did', () => {
  assert.equal(partitionStatus(window([5, 5, 5], [9, 9, 9], NOW - 60_000), [14], 1, NOW, 1), 'OK');
});

test('no commit for longer than the window spans, with lag, is STOP, unless an end offset read lately was at the last commit', () => {
  const commits = window([10, 20, 30], [0, 0, 0], NOW - 3000);
  assert.equal(partitionStatus(commits, [40, 50], 20, NOW, 0), 'STOP');
  assert.equal(partitionStatus(commits, [30, 40, 50], 20, NOW, 0), 'OK', 'caught up at a recent reading');
  assert.equal(partitionStatus(window([10, 20, 30], [0, 0, 0], NOW - 1000), [40], 10, NOW, 0), 'OK', 'within the span');
});

test('an offset that went back and has not come back is REWIND; one that came back is not', () => {
  assert.equal(partitionStatus(window([10, 20, 5, 8], [0, 0, 20, 25]), [33], 25, NOW, 0), 'REWIND');
  assert.equal(partitionStatus(window([10, 20, 5, 21], [0, 0, 20, 4]), [25], 4, NOW, 0), 'OK');
});

test('the same offset at every commit with lag throughout is STALL; lag that never goes down is WARN; lag that went to zero once is OK', () => {
  assert.equal(partitionStatus(window([7, 7, 7, 7], [3, 5, 8, 9]), [16], 9, NOW, 0), 'STALL');
  assert.equal(partitionStatus(window([10, 12, 14, 16], [2, 4, 4, 6]), [22], 6, NOW, 0), 'WARN');
  assert.equal(partitionStatus(window([10, 12, 14, 16], [2, 4, 3, 6]), [22], 6, NOW, 0), 'OK', 'the lag went down once');
  assert.equal(partitionStatus(window([10, 12, 14, 16], [0, 4, 5, 6]), [22], 6, NOW, 0), 'OK', 'no lag at one commit');
  assert.equal(partitionStatus(window([10, 12, 14, 16], [1, 4, 5, 6]), [22], 6, NOW, 1), 'OK', 'within the allowed lag at one commit');
});

test('a single commit shows no trend: a group that committed once and has lag since is not STALL or WARN', () => {
  // The first commit of a group, read before any end offset (its lag unknown), caught up at a recent reading.
  assert.equal(partitionStatus([{ offset: 0, lag: null, time: NOW - 400 }], [0, 10], 10, NOW, 0), 'OK');
  assert.equal(partitionStatus([{ offset: 0, lag: 3, time: NOW - 400 }], [0, 10], 10, NOW, 0), 'OK');
});

test("a group is its worst partition's status, STOP, STALL and REWIND as ERR", () => {
  assert.equal(groupStatus(['OK', 'OK']), 'OK');
  assert.equal(groupStatus(['OK', 'WARN']), 'WARN');
  for (const s of /** @type {const} */ (['STOP', 'STALL', 'REWIND'])) assert.equal(groupStatus(['WARN', s, 'OK']), 'ERR');
});

test('lag in seconds is when the end offset passed the committed offset, interpolated, or extrapolated at the observed rate', () => {
  const points = [
    { time: 10_000, end: 100 },
    { time: 20_000, end: 200 },
    { time: 30_000, end: 300 },
  ];
  assert.equal(lagSeconds(points, 300, 30_000), 0);
  // Offset 149 was written when the end went from 149 to 150: at 15 s.
  assert.equal(lagSeconds(points, 149, 30_000), 15);
  // Offset 49, before the first reading, at 10 per second: written at 5 s.
  assert.equal(lagSeconds(points, 49, 30_000), 25);
  assert.equal(lagSeconds([], 5, 30_000), 0);
});

const str = (s) => {
  const b = Buffer.from(s);
  const len = Buffer.alloc(2);
  len.writeInt16BE(b.length);
  return Buffer.concat([len, b]);
};
const i16 = (n) => Buffer.from([(n >> 8) & 0xff, n & 0xff]);
const i32 = (n) => {
  const b = Buffer.alloc(4);
  b.writeInt32BE(n);
  return b;
};
const i64 = (n) => {
  const b = Buffer.alloc(8);
  b.writeBigInt64BE(BigInt(n));
  return b;
};

test('commit records of __consumer_offsets decode in every value version; deletions and other records are told apart', () => {
  const key = Buffer.concat([i16(1), str('g1'), str('t1'), i32(3)]);
  // Version 4 as Kafka 4 writes it: offset, leader epoch, compact metadata, commit time, tagged fields (a topic id).
  const v4 = Buffer.from('00040000000000000001ffffffff01000001a231a7b77b010010d29575583da344078970cfd21225a5ee', 'hex');
  assert.deepEqual(decodeOffsetRecord(key, v4), { kind: 'commit', group: 'g1', topic: 't1', partition: 3, offset: 1n, commitTime: 0x1a231a7b77b });
  const v1 = Buffer.concat([i16(1), i64(42), str('meta'), i64(1234), i64(9999)]);
  assert.deepEqual(decodeOffsetRecord(key, v1), { kind: 'commit', group: 'g1', topic: 't1', partition: 3, offset: 42n, commitTime: 1234 });
  const v3 = Buffer.concat([i16(3), i64(42), i32(7), str(''), i64(5678)]);
  assert.deepEqual(decodeOffsetRecord(key, v3), { kind: 'commit', group: 'g1', topic: 't1', partition: 3, offset: 42n, commitTime: 5678 });
  assert.deepEqual(decodeOffsetRecord(key, null), { kind: 'delete', group: 'g1', topic: 't1', partition: 3 });
  assert.equal(decodeOffsetRecord(Buffer.concat([i16(2), str('g1')]), v4), undefined, 'group metadata');
  assert.equal(decodeOffsetRecord(key, Buffer.from([0, 4, 1])), undefined, 'cut short');
});

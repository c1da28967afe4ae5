// A keyed message goes to the partition Apache Kafka's Java client would choose for its key, so
// producers in any language agree on where a key's messages are, and in what order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { randomBytes, randomUUID } from 'node:crypto';
import { murmur2, javaCompatiblePartitioner } from '@pipewright/platform';

const require = createRequire(import.meta.url);
const { Partitioners } = require(require.resolve('kafkajs', { paths: [require.resolve('@pipewright/platform')] }));

const metadata = (n) => Array.from({ length: n }, (_, i) => ({ partitionErrorCode: 0, partitionId: i, leader: 1, replicas: [1], isr: [1] }));

test("murmur2 gives the Java client's hashes (the cases of Kafka's own UtilsTest)", () => {
  /** @type {Array<[string, number]>} */
  const cases = [
    ['21', -973932308],
    ['foobar', -790332482],
    ['a-little-bit-long-string', -985981536],
    ['a-little-bit-longer-string', -1486304829],
    ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971],
    ['abc', 479470107],
  ];
  for (const [key, hash] of cases) assert.equal(murmur2(Buffer.from(key)), hash, key);
});

test('a keyed message goes to the partition the kafkajs default partitioner chooses, for string and byte keys of every length', () => {
  const ours = javaCompatiblePartitioner();
  const theirs = Partitioners.DefaultPartitioner();
  for (const n of [1, 3, 12, 50]) {
    const partitionMetadata = metadata(n);
    for (let i = 0; i < 400; i++) {
      const key = i % 3 === 0 ? randomUUID() : i % 3 === 1 ? randomBytes(i % 70) : `job-${i}-${'é'.repeat(i % 5)}`;
      const args = { topic: 't', partitionMetadata, message: { key, value: 'v' } };
      assert.equal(ours(args), theirs(args), `key ${String(key)} over ${n} partitions`);
    }
  }
});

test('a message with a partition keeps it; messages without a key go round robin over the partitions that have a leader', () => {
  const choose = javaCompatiblePartitioner();
  assert.equal(choose({ topic: 't', partitionMetadata: metadata(12), message: { key: 'k', partition: 7, value: 'v' } }), 7);
  const partitionMetadata = metadata(4).map((p) => (p.partitionId === 2 ? { ...p, leader: -1 } : p));
  const chosen = Array.from({ length: 6 }, () => choose({ topic: 'u', partitionMetadata, message: { value: 'v' } }));
  assert.deepEqual([...new Set(chosen)].sort(), [0, 1, 3], 'every partition with a leader, and only those');
  assert.notEqual(chosen[0], chosen[1], 'one after the other');
});

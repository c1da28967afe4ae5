import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chunksOfBytes } from '../dist/grpc.js';

test('a batch is cut into consecutive chunks of at most the given bytes; an item too big alone goes alone', () => {
  const size = (n) => n;
  assert.deepEqual(chunksOfBytes([5, 5, 5, 20, 1, 1], size, 10), [[5, 5], [5], [20], [1, 1]]);
  assert.deepEqual(chunksOfBytes([], size, 10), []);
  assert.deepEqual(chunksOfBytes([3, 3, 3], size, 10), [[3, 3, 3]]);
  assert.deepEqual(chunksOfBytes([1, 2, 3, 4, 5, 6], size, 6).flat(), [1, 2, 3, 4, 5, 6], 'order is kept');
});

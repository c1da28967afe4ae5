import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deadLetterHeaders, DLQ_HEADERS } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';

test('dead-letter headers name the original topic, partition, offset, error and time', () => {
  const at = new Date('2026-01-02T03:04:05.678Z');
  const h = deadLetterHeaders({ topic: TOPICS.jobsIngest, partition: 7, offset: '42' }, new Error('not valid JSON'), at);
  assert.deepEqual(h, {
    'original-topic': TOPICS.jobsIngest,
    'original-partition': '7',
    'original-offset': '42',
    'error-message': 'not valid JSON',
    'error-timestamp': '2026-01-02T03:04:05.678Z',
  });
  assert.deepEqual(Object.values(DLQ_HEADERS).sort(), Object.keys(deadLetterHeaders({ topic: 't', partition: 0, offset: '0' }, new Error('e'), at, 1)).sort());
});

test('a message given up on after its retries says how many times it was tried; one never tried says nothing of attempts', () => {
  const h = deadLetterHeaders({ topic: 'orders', partition: 0, offset: '9' }, new Error('failed'), new Date(), 4);
  assert.equal(h.attempts, '4');
  assert.equal(deadLetterHeaders({ topic: 'orders', partition: 0, offset: '9' }, new Error('bad bytes'), new Date()).attempts, undefined);
});

test('a very long error message is cut to 2000 characters', () => {
  const h = deadLetterHeaders({ topic: 't', partition: 0, offset: '0' }, new Error('x'.repeat(5000)), new Date());
  assert.equal(h['error-message'].length, 2000);
});

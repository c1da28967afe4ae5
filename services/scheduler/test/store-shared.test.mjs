import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobIdFor, recordsetJson } from '../dist/store-shared.js';

test('a job id follows from its request id as it always has: a request stored again by a newer version gets the same id', () => {
  // The name-based UUID (version 5 layout, SHA-1 of "pipewright.job\0" and the request id).
  assert.equal(jobIdFor('order-42'), '61d4276e-21f1-5e57-ae9b-1ac54ed76079');
  assert.notEqual(jobIdFor('order-43'), jobIdFor('order-42'));
  assert.match(jobIdFor('αβγ/ünïcode'), /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
});

test('rows for jsonb_to_recordset leave their null fields out, and a job\'s own data keeps its nulls', () => {
  const json = recordsetJson([
    { id: 'a', idempotency_key: null, max_retries: 0, job_data: { keep: null, nested: { also: null } }, fire_run: undefined },
    { id: 'b', idempotency_key: 'k', max_retries: null, job_data: {}, fire_run: 'b:1' },
  ]);
  assert.deepEqual(JSON.parse(json), [
    { id: 'a', max_retries: 0, job_data: { keep: null, nested: { also: null } } },
    { id: 'b', idempotency_key: 'k', job_data: {}, fire_run: 'b:1' },
  ]);
});

test('rows for jsonb_to_recordset can be cut to the fields a statement reads', () => {
  const json = recordsetJson([{ job_id: 'j', status: 'DONE', attempt: 1, error: null, at: '2026-01-01T00:00:00.000Z', due_at: 'x' }], ['job_id', 'status', 'attempt', 'error']);
  assert.deepEqual(JSON.parse(json), [{ job_id: 'j', status: 'DONE', attempt: 1 }]);
});

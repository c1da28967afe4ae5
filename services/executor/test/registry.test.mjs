import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseRegistry, registryTopics } from '../dist/registry.js';
import { backoffDelay } from '../dist/backoff.js';

test('the default registry has the sms, sipcall and payment_gateway apps, each publishing to its own topic', () => {
  const file = join(import.meta.dirname, '..', '..', '..', 'packages', 'contracts', 'apps.default.json');
  const reg = parseRegistry(readFileSync(file, 'utf8'), file);
  for (const app of ['sms', 'sipcall', 'payment_gateway']) {
    assert.equal(reg.get(app)?.handler, 'kafka.publish');
  }
  assert.deepEqual(registryTopics(reg).sort(), ['payment_gateway.jobs', 'sipcall.jobs', 'sms.jobs']);
});

test('an unknown handler is a start-up error naming the app and handler', () => {
  assert.throws(() => parseRegistry('{"apps":{"sms":{"handler":"carrier-pigeon"}}}', 'apps.json'), /apps\.sms\.handler "carrier-pigeon" is not one of/);
});

test('a registry that is not JSON, or has no apps object, is refused', () => {
  assert.throws(() => parseRegistry('{apps:', 'apps.json'), /not valid JSON/);
  assert.throws(() => parseRegistry('{"handlers":{}}', 'apps.json'), /needs an "apps" object/);
});

test('backoff doubles from the initial delay, is capped, and jitters by at most 20 %', () => {
  const b = { initialMs: 200, multiplier: 2, maxMs: 1000 };
  assert.deepEqual([1, 2, 3, 4].map((a) => backoffDelay(a, b, () => 0.5)), [200, 400, 800, 1000]);
  assert.equal(backoffDelay(1, b, () => 0), 160);
  assert.equal(backoffDelay(1, b, () => 1), 240);
});

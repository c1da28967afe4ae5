import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_APPS_CONFIG, parseAppRegistry, readAppNames } from '@pipewright/contracts';

test('the default registry names the apps the gateway and scheduler accept', () => {
  const names = readAppNames(DEFAULT_APPS_CONFIG);
  for (const app of ['sms', 'sipcall', 'payment_gateway', 'publish', 'noop', 'fail', 'football']) assert.ok(names.has(app), app);
  assert.equal(names.has('fax'), false);
});

test('a registry file is read by path; its apps are exactly the ones it names', () => {
  const file = join(mkdtempSync(join(tmpdir(), 'pw-apps-')), 'apps.json');
  writeFileSync(file, JSON.stringify({ apps: { billing: { handler: 'http', options: { url: 'http://billing/run' } } } }));
  assert.deepEqual([...readAppNames(file)], ['billing']);
});

test('a registry that cannot be read or is malformed is an error naming the file and the entry', () => {
  assert.throws(() => readAppNames('/nonexistent/apps.json'), /cannot read the app registry APPS_CONFIG=\/nonexistent\/apps\.json/);
  assert.throws(() => parseAppRegistry('{', 'a.json'), /app registry a\.json is not valid JSON/);
  assert.throws(() => parseAppRegistry('{"apps":[]}', 'a.json'), /needs an "apps" object/);
  assert.throws(() => parseAppRegistry('{"apps":{"sms":{}}}', 'a.json'), /apps\.sms\.handler must be a string/);
  assert.throws(() => parseAppRegistry('{"apps":{"sms":{"handler":"noop","options":3}}}', 'a.json'), /apps\.sms\.options must be an object/);
  assert.throws(() => parseAppRegistry('{"apps":{"s m s":{"handler":"noop"}}}', 'a.json'), /app name "s m s"/);
});

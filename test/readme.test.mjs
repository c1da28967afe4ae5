import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { allSettings } from '../scripts/settings-table.mjs';
import { ROOT } from '../scripts/lib/system.mjs';

test('the README documents every setting the services declare', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const missing = allSettings().map((s) => s.name).filter((name) => !readme.includes(`\`${name}\``));
  assert.deepEqual(missing, [], 'run node scripts/settings-table.mjs and update the configuration table');
});

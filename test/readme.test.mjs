import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, allSettings, generatedTables, withTable } from '@pipewright/testkit';

test('the README documents every setting the services declare', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const missing = allSettings().map((s) => s.name).filter((name) => !readme.includes(`\`${name}\``));
  assert.deepEqual(missing, [], 'run node scripts/settings-table.mjs --write');
});

test('every generated settings table (the README and each service README) is current', () => {
  for (const { file, table } of generatedTables()) {
    const text = readFileSync(file, 'utf8');
    assert.equal(text, withTable(text, table, file), `${file.replace(`${ROOT}/`, '')} is stale: run node scripts/settings-table.mjs --write`);
  }
});

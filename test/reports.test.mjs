// The results files of `npm run bench` and `npm run chaos` are written from their JSON by the
// report modules: each committed .md is what its module makes of the committed .json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '@pipewright/testkit';

const results = (file) => readFileSync(join(ROOT, 'bench', 'results', file), 'utf8');

test('bench/results/latest.md is bench/report.mjs of latest.json', async () => {
  const { markdown } = await import('../bench/report.mjs');
  assert.equal(`${markdown(JSON.parse(results('latest.json')))}\n`, results('latest.md'));
});

test('bench/results/chaos.md is the chaos report of chaos.json', async () => {
  const { markdown } = await import('../scripts/lib/chaos-report.mjs');
  assert.equal(markdown(JSON.parse(results('chaos.json'))), results('chaos.md'));
});

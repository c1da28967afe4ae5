import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runProgress } from '../dist/pipeline/progress.js';

const T = (s) => new Date(`2026-03-02T10:00:${s}Z`);
/** @typedef {import('../dist/pipeline/store.js').RunRow} RunRow */
/** @typedef {import('../dist/pipeline/store.js').RegionRow} RegionRow */
/** @param {Partial<RunRow>} [fields] @returns {RunRow} */
const run = (fields = {}) => ({ run_id: 'r', announced: true, regions: ['us', 'fr'], source: 'synthetic', trading_date: '2026-03-02', started_at: T('00'), finished_at: null, ...fields });
/** @param {string} name @param {Partial<RegionRow>} [fields] @returns {RegionRow} */
const region = (name, fields = {}) => ({
  run_id: 'r',
  region: name,
  state: 'completed',
  symbols_emitted: 10,
  duration_ms: '500',
  error: '',
  reported_at: T('05'),
  completed: 0,
  failed: 0,
  first_symbol_at: null,
  last_symbol_at: null,
  ...fields,
});
const NOW = T('30');

test('a run announced and not reported on: every region pending, nothing done', () => {
  const { status, complete } = runProgress(run(), [], NOW);
  assert.equal(complete, false);
  assert.deepEqual([status.sent, status.completed, status.failed, status.pending, status.percent], [2, 0, 0, 2, 0]);
  assert.deepEqual(
    status.regionProgress.map((r) => r.state),
    ['PENDING', 'PENDING'],
  );
  assert.equal(status.durationMs, 30_000, 'running: the time since it started');
});

test('per stage: regions scraped, symbols of scraped regions processed or failed; the run is complete when both are done', () => {
  const partly = runProgress(run(), [region('us', { completed: 6, failed: 1, first_symbol_at: T('06'), last_symbol_at: T('08') })], NOW);
  assert.deepEqual(partly.status.scraping && [partly.status.scraping.sent, partly.status.scraping.completed, partly.status.scraping.pending], [2, 1, 1]);
  assert.deepEqual(partly.status.processing && [partly.status.processing.sent, partly.status.processing.completed, partly.status.processing.failed, partly.status.processing.pending], [10, 6, 1, 3]);
  assert.equal(partly.status.percent, 35, 'us 7 of 10 done, fr pending: (0.7 + 0) / 2');
  assert.equal(partly.status.processing?.startedAt?.toISOString(), T('06').toISOString());

  const done = runProgress(
    run(),
    [region('us', { completed: 9, failed: 1, first_symbol_at: T('06'), last_symbol_at: T('12') }), region('fr', { state: 'failed', symbols_emitted: 0, error: 'page 1 of fr: down', reported_at: T('09') })],
    NOW,
  );
  assert.equal(done.complete, true);
  assert.equal(done.status.percent, 100);
  assert.deepEqual([done.status.sent, done.status.completed, done.status.failed, done.status.pending], [12, 10, 2, 0]);
  assert.equal(done.finishedAt?.toISOString(), T('12').toISOString(), 'finished at its last report');
  assert.equal(done.status.durationMs, 12_000);
  assert.equal(done.status.scraping?.finishedAt?.toISOString(), T('09').toISOString());
  assert.deepEqual(done.status.regionProgress[1], { region: 'fr', state: 'FAILED', symbolsEmitted: 0, symbolsCompleted: 0, symbolsFailed: 0, scrapeDurationMs: 500, error: 'page 1 of fr: down' });
});

test('the percent never goes down as regions report more symbols, and a region that emitted none is done', () => {
  const steps = [
    [],
    [region('us', { completed: 0 })],
    [region('us', { completed: 5 })],
    [region('us', { completed: 5 }), region('fr', { symbols_emitted: 100, completed: 1 })],
    [region('us', { completed: 10 }), region('fr', { symbols_emitted: 100, completed: 99 })],
    [region('us', { completed: 10 }), region('fr', { symbols_emitted: 100, completed: 100 })],
  ];
  const percents = steps.map((rows) => runProgress(run(), rows, NOW).status.percent);
  assert.deepEqual(
    percents,
    [...percents].sort((a, b) => a - b),
    `non-decreasing: ${percents}`,
  );
  assert.equal(percents[percents.length - 1], 100);
  assert.ok(percents[4] < 100, 'not 100 before the last symbol');
  assert.equal(runProgress(run({ regions: ['us'] }), [region('us', { symbols_emitted: 0 })], NOW).complete, true);
});

test('before its announcement a run shows the regions that reported and is never complete', () => {
  const p = runProgress(run({ announced: false, regions: [] }), [region('jp', { completed: 10 })], NOW);
  assert.deepEqual(p.status.regions, ['jp']);
  assert.equal(p.complete, false);
  assert.equal(p.status.announced, false);
});

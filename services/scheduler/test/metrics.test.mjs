import { test } from 'node:test';
import assert from 'node:assert/strict';
import { prom } from '@pipewright/platform';
import { SchedulerMetrics } from '../dist/metrics.js';

test('the lateness summary is of the last 10,000 firings: older ones no longer count', () => {
  const metrics = new SchedulerMetrics(new prom.Registry());
  assert.deepEqual(metrics.latenessSummary(), { p50: 0, p99: 0, max: 0 });
  for (let i = 0; i < 15_000; i++) metrics.observeLateness(1_000_000);
  // The last 10,000: 1 to 10,000 ms, in a shuffled order.
  const last = Array.from({ length: 10_000 }, (_, i) => i + 1);
  for (let i = last.length - 1; i > 0; i--) {
    const j = (i * 7919) % (i + 1);
    [last[i], last[j]] = [last[j], last[i]];
  }
  for (const ms of last) metrics.observeLateness(ms);
  assert.deepEqual(metrics.latenessSummary(), { p50: 5001, p99: 9901, max: 10_000 });
  assert.equal(metrics.counts.fired, 25_000);
});

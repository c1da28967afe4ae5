// Consumer lag on the real broker: groups that commit as they are told to, read by the monitor
// from __consumer_offsets and judged by Burrow's rules. A group that stops committing goes to
// STOP, one whose lag grows to WARN, one that commits the same offset to STALL, one that rewinds
// to REWIND, a healthy one stays OK; the figures are on /metrics under kafka-lag-exporter's
// names; WatchConsumerLag streams them; the windows survive a restart of the monitor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import { monitorV1 } from '@pipewright/proto';
import { startStack, eventually, sleep, grpcError } from '@pipewright/testkit';

const { LagStatus } = monitorV1;
const STEP_MS = 500;
const PER_STEP = 10;
const MONITOR_ENV = {
  MONITOR_LAG_INTERVAL: '150ms',
  MONITOR_LAG_MIN_DISTANCE: '300ms',
  MONITOR_LAG_ALLOWED: '0',
  MONITOR_LAG_ALL_GROUPS: 'true',
  MONITOR_SERVICES: 'monitor=127.0.0.1:1',
};

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@pipewright/testkit').MonitorClient} */
let monitor;
/** @type {import('kafkajs').Producer} */
let producer;
const topic = `lag-test-${randomUUID().slice(0, 8)}`;
const tag = randomUUID().slice(0, 6);
/** The groups of this file, by the status they are made to reach. */
const G = { ok: `ok-${tag}`, warn: `warn-${tag}`, stop: `stop-${tag}`, stall: `stall-${tag}`, rewind: `rewind-${tag}` };
/** @type {Map<string, import('kafkajs').Consumer>} */
const members = new Map();
/** Statuses seen of each group's partition, in order (consecutive repeats once). */
/** @type {Map<string, number[]>} */
const seen = new Map(Object.values(G).map((g) => [g, []]));
let step = 0;
let end = 0;
let driving = true;
/** While the monitor restarts, nothing is produced or committed. */
let paused = false;
/** @type {Promise<void>} */
let driver;
/** @type {Promise<void>} */
let sampler;

/** What each group commits after `step` steps, the topic's end being `end` (undefined: no commit). */
const COMMITS = {
  [G.ok]: () => end,
  [G.warn]: () => 3 * step,
  [G.stop]: () => (step <= 5 ? end : undefined),
  [G.stall]: () => (step === 0 ? 0 : 5),
  [G.rewind]: () => (step <= 6 ? end : step === 7 ? end - 45 : undefined),
};

/** A member of `groupId` that holds the partition and commits what it is told, consuming nothing. */
async function member(groupId) {
  const c = stack.kafka.consumer({ groupId, sessionTimeout: 30_000 });
  await c.connect();
  await c.subscribe({ topic, fromBeginning: true });
  await c.run({ autoCommit: false, eachBatchAutoResolve: false, eachBatch: async () => undefined });
  c.pause([{ topic }]);
  members.set(groupId, c);
}

/** Waits until the monitor has read the topic's end at `offset` (its overview says so). */
const monitorSawEnd = (offset) =>
  eventually(async () => (await monitor.getOverview({})).topics.find((t) => t.topic === topic)?.endOffset === offset, { timeoutMs: 10_000, intervalMs: 50, message: `the monitor reading ${topic} at ${offset}` });

/** Every STEP_MS: PER_STEP more messages, then each group's commit once the monitor has seen the new end. */
async function drive() {
  while (driving) {
    const started = Date.now();
    if (paused) {
      await sleep(50);
      continue;
    }
    await oneStep().catch((err) => console.log(`step ${step} failed: ${err.message}`));
    await sleep(Math.max(0, STEP_MS - (Date.now() - started)));
  }
}

/** Each group commits what COMMITS says for this step. */
const commitAll = () =>
  Promise.all(
    Object.entries(COMMITS).map(async ([group, commit]) => {
      const offset = commit();
      if (offset !== undefined) await members.get(group)?.commitOffsets([{ topic, partition: 0, offset: String(offset) }]);
    }),
  );

async function oneStep() {
  step += 1;
  await producer.send({ topic, acks: -1, messages: Array.from({ length: PER_STEP }, (_, i) => ({ value: `m${step}-${i}` })) });
  end += PER_STEP;
  await monitorSawEnd(end);
  await commitAll();
}

async function sample() {
  while (driving) {
    for (const group of Object.values(G)) {
      const lag = await monitor.getConsumerLag({ groupId: group }).catch(() => undefined);
      const s = lag?.partitions[0]?.status;
      const list = seen.get(group);
      if (s !== undefined && list && list[list.length - 1] !== s) {
        list.push(s);
        if (process.env.LAGDEBUG) console.log(Date.now(), group, LagStatus[s], JSON.stringify(lag?.partitions[0]));
      }
    }
    await sleep(100);
  }
}

before(async () => {
  stack = await startStack();
  const admin = stack.kafka.admin();
  await admin.connect();
  await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
  await admin.disconnect();
  await stack.start('monitor', { env: MONITOR_ENV });
  monitor = stack.client('monitor');
  producer = stack.kafka.producer();
  await producer.connect();
  for (const g of Object.values(G)) await member(g);
  // Step 0: every group commits offset 0 of the empty topic, so that the monitor reads the topic from now on.
  await commitAll();
  await monitorSawEnd(0);
  driver = drive();
  sampler = sample();
});

after(async () => {
  driving = false;
  await Promise.allSettled([driver, sampler]);
  for (const c of members.values()) await c.disconnect();
  await producer?.disconnect();
  await stack?.stop();
});

const names = (statuses) => statuses.map((s) => LagStatus[s].replace('LAG_STATUS_', ''));
/** Waits until the group's partition has been seen in `expected`. */
const reaches = (group, expected, timeoutMs = 30_000) =>
  eventually(() => seen.get(group)?.includes(expected), { timeoutMs, message: `${group} reaching ${LagStatus[expected]} (seen: ${names(seen.get(group) ?? []).join(' → ')})` });

test('a group whose lag grows goes to WARN; one that stops committing goes to STOP; one committing the same offset goes to STALL; one that rewinds goes to REWIND; a healthy one stays OK', async () => {
  await reaches(G.warn, LagStatus.LAG_STATUS_WARN);
  await reaches(G.stall, LagStatus.LAG_STATUS_STALL);
  await reaches(G.rewind, LagStatus.LAG_STATUS_REWIND);
  await reaches(G.stop, LagStatus.LAG_STATUS_STOP);
  assert.deepEqual(names(seen.get(G.ok) ?? []), ['OK'], 'the healthy group was never anything but OK');
  assert.ok(names(seen.get(G.stop) ?? []).indexOf('OK') < names(seen.get(G.stop) ?? []).indexOf('STOP'), 'OK while it committed, then STOP');

  const stop = await monitor.getConsumerLag({ groupId: G.stop });
  assert.equal(stop.status, LagStatus.LAG_STATUS_ERR, 'a group with a STOP partition is ERR');
  assert.equal(stop.partitions[0].topic, topic);
  assert.ok(stop.partitions[0].lag > 0 && stop.partitions[0].lag === stop.partitions[0].endOffset - stop.partitions[0].committedOffset);
  assert.ok(stop.partitions[0].lagSeconds > 0, 'the oldest message not consumed has an age');
  const warn = await eventually(
    async () => {
      const l = await monitor.getConsumerLag({ groupId: G.warn });
      return l.partitions[0].commits.length === 10 && l;
    },
    { message: 'a full window of 10 commits' },
  );
  assert.equal(warn.status, LagStatus.LAG_STATUS_WARN);
  const lags = warn.partitions[0].commits.map((c) => c.lag);
  assert.deepEqual(lags, [...lags].sort((a, b) => a - b), 'the lag at each commit of the window never went down');
  assert.equal(warn.complete, 1);
  const ok = await monitor.getConsumerLag({ groupId: G.ok });
  assert.equal(ok.status, LagStatus.LAG_STATUS_OK);
});

test('ListConsumerGroups lists the groups with their status, lag, topics and members; an unknown group is NOT_FOUND', async () => {
  const { groups } = await monitor.listConsumerGroups({});
  const mine = groups.filter((g) => Object.values(G).includes(g.groupId));
  assert.equal(mine.length, 5);
  for (const g of mine) {
    assert.deepEqual(g.topics, [topic]);
    assert.equal(g.partitions, 1);
    assert.equal(g.members, 1);
    assert.equal(g.state, 'Stable');
  }
  assert.equal(mine.find((g) => g.groupId === G.stall)?.status, LagStatus.LAG_STATUS_ERR);
  await assert.rejects(monitor.getConsumerLag({ groupId: `nobody-${tag}` }), grpcError(status.NOT_FOUND));
  await assert.rejects(monitor.getConsumerLag({ groupId: '' }), grpcError(status.INVALID_ARGUMENT, /group_id/));
});

/** The samples of /metrics: name, labels and value of each line. */
async function scrape() {
  const text = await (await fetch(`http://127.0.0.1:${stack.proc('monitor').metricsPort}/metrics`)).text();
  return text
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const m = /^(\w+)(?:\{(.*)\})? (\S+)$/.exec(l);
      if (!m) throw new Error(`not a sample: ${l}`);
      const labels = Object.fromEntries([...(m[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((x) => [x[1], x[2]]));
      return { name: m[1], labels, value: Number(m[3]) };
    });
}

test("the lag is on /metrics under kafka-lag-exporter's names and labels, with each group's status and the DLQ depths", async () => {
  const samples = await scrape();
  const one = (name, labels) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  const partition = { cluster_name: 'pipewright', group: G.warn, topic, partition: '0' };
  const lag = one('kafka_consumergroup_group_lag', partition);
  assert.ok(lag && lag.value > 0, 'kafka_consumergroup_group_lag{cluster_name,group,topic,partition}');
  assert.ok(one('kafka_consumergroup_group_lag_seconds', partition), 'kafka_consumergroup_group_lag_seconds');
  assert.ok(one('kafka_consumergroup_group_offset', partition), 'kafka_consumergroup_group_offset');
  assert.equal(one('kafka_consumergroup_group_max_lag', { cluster_name: 'pipewright', group: G.warn })?.value, lag.value);
  assert.equal(one('kafka_consumergroup_group_sum_lag', { cluster_name: 'pipewright', group: G.warn })?.value, lag.value);
  assert.ok(one('kafka_consumergroup_group_max_lag_seconds', { cluster_name: 'pipewright', group: G.warn }));
  assert.ok((one('kafka_partition_latest_offset', { cluster_name: 'pipewright', topic, partition: '0' })?.value ?? -1) >= end - PER_STEP);
  assert.equal(one('pipewright_consumergroup_status', { group: G.ok })?.value, 1, 'OK is 1');
  assert.equal(one('pipewright_consumergroup_status', { group: G.warn })?.value, 2, 'WARN is 2');
  assert.equal(one('pipewright_consumergroup_status', { group: G.stall })?.value, 3, 'ERR is 3');
  assert.ok(one('pipewright_dlq_depth', { topic: 'scheduler.jobs.dlq' }), 'a DLQ depth gauge per DLQ topic');
});

test('WatchConsumerLag sends the group now, then again as its figures change', async () => {
  const call = monitor.raw.watchConsumerLag(monitorV1.WatchConsumerLagRequest.fromPartial({ groupIds: [G.warn] }), { deadline: Date.now() + 30_000 });
  /** @type {import('@pipewright/proto').monitorV1.ConsumerLag[]} */
  const got = [];
  call.on('data', (m) => got.push(m));
  call.on('error', () => undefined);
  try {
    // The lag in seconds of a group behind changes at every evaluation, its lag in messages at its commits.
    await eventually(() => got.length > 1 && got.some((m) => m.total > got[0].total), { timeoutMs: 20_000, message: 'a message with more lag than the first' });
    assert.ok(got.every((m) => m.groupId === G.warn));
    const times = got.map((m) => m.evaluatedAt?.getTime() ?? 0);
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'in the order evaluated');
  } finally {
    call.cancel();
  }
});

test('the commit windows, with the lag read at each commit, survive a restart of the monitor', async () => {
  paused = true;
  await sleep(2 * STEP_MS);
  const before = await monitor.getConsumerLag({ groupId: G.ok });
  assert.ok(before.partitions[0].commits.every((c) => c.lag === 0), 'caught up at every commit');
  await stack.proc('monitor').stop();
  await stack.start('monitor', { env: MONITOR_ENV });
  monitor = stack.client('monitor');
  const after = await monitor.getConsumerLag({ groupId: G.ok });
  // Read again from __consumer_offsets, the same commits would be judged against today's end offset.
  assert.deepEqual(after.partitions[0].commits, before.partitions[0].commits);
  assert.equal(after.status, LagStatus.LAG_STATUS_OK);
  paused = false;
});

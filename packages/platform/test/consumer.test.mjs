// The consumer runner against a real broker: DLQ for undecodable messages, retries for failed
// work, offsets committed only after the work is done.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { InvalidMessageError } from '@pipewright/platform';
import { startKafkaClient, eventually, deferred } from '@pipewright/testkit';

/** @type {import('@pipewright/testkit').PlatformKafka} */
let kafka;
/** @type {import('@pipewright/platform').KafkaClient} */
let client;
/** @type {import('@pipewright/platform').MessageProducer} */
let producer;

before(async () => {
  kafka = await startKafkaClient('consumer-test', { partitions: 3 });
  ({ client, producer } = kafka);
});

after(async () => kafka?.stop());

const unique = (p) => `${p}.${randomBytes(4).toString('hex')}`;
/** @param {() => boolean} fn */
const until = (fn) => eventually(fn, { timeoutMs: 20_000, intervalMs: 100 });
/** @param {{ value: Buffer | null }} m */
const text = (m) => m.value?.toString() ?? '';

async function collect(topic) {
  const seen = [];
  const handle = await client.consume(
    {
      groupId: unique('collector'),
      topics: [topic],
      dlqTopic: unique('unused-dlq'),
      decode: (m) => m,
      handle: async (m) => void seen.push(m),
    },
    producer,
  );
  return { seen, stop: () => handle.stop() };
}

test('an undecodable message goes to the DLQ with its bytes, its headers and the five DLQ headers; the next one is processed', async () => {
  const topic = unique('in');
  const dlqTopic = unique('dlq');
  await client.ensureTopics([topic, dlqTopic]);
  const processed = [];
  const dlq = await collect(dlqTopic);
  const handle = await client.consume(
    {
      groupId: unique('g'),
      topics: [topic],
      dlqTopic,
      decode: (m) => {
        const v = JSON.parse(text(m));
        if (typeof v.n !== 'number') throw new InvalidMessageError('n must be a number');
        return v;
      },
      handle: async (v) => void processed.push(v.n),
    },
    producer,
  );
  const bad = Buffer.from('{"n": oops');
  const sent = await producer.send(topic, [
    { key: 'same', value: bad, headers: { trace: 'abc', bin: Buffer.from([0xff, 0x00, 0xfe]) } },
    { key: 'same', value: { n: 'x' } },
    { key: 'same', value: { n: 7 } },
  ]);
  await until(() => processed.length === 1 && dlq.seen.length === 2);
  await handle.stop();
  await dlq.stop();
  assert.deepEqual(processed, [7]);
  const [first, second] = dlq.seen.sort((a, b) => Number(a.headers['original-offset']) - Number(b.headers['original-offset']));
  assert.ok(Buffer.compare(first.value, bad) === 0);
  assert.equal(first.key.toString(), 'same');
  assert.equal(first.headers.trace, 'abc', 'original headers are kept');
  assert.deepEqual(first.rawHeaders.bin, Buffer.from([0xff, 0x00, 0xfe]), 'binary header values are kept byte-for-byte');
  assert.equal(first.headers['original-topic'], topic);
  assert.equal(first.headers['original-partition'], String(sent[0].partition));
  assert.equal(first.headers['original-offset'], sent[0].offset);
  assert.match(first.headers['error-message'], /JSON/);
  assert.ok(Date.parse(first.headers['error-timestamp']) > 0);
  assert.equal(second.headers['error-message'], 'n must be a number');
});

test('a handler that fails is retried until it succeeds, and its offset is committed only then', async () => {
  const topic = unique('retry');
  await client.ensureTopics([topic]);
  const groupId = unique('g');
  let calls = 0;
  const spec = {
    groupId,
    topics: [topic],
    dlqTopic: unique('dlq'),
    decode: text,
    handle: async () => {
      calls += 1;
      if (calls < 3) throw new Error('database briefly unavailable');
    },
  };
  const handle = await client.consume(spec, producer);
  await producer.send(topic, [{ key: 'k', value: 'work' }]);
  await until(() => handle.stats.processed === 1);
  await handle.stop();
  assert.equal(calls, 3);
  assert.equal(handle.stats.retries, 2);

  // A new member of the same group starts after the committed offset: nothing is redelivered.
  const again = [];
  const second = await client.consume({ ...spec, handle: async (v) => void again.push(v) }, producer);
  await producer.send(topic, [{ key: 'k', value: 'next' }]);
  await until(() => again.length >= 1);
  await second.stop();
  assert.deepEqual(again, ['next']);
});

test('work left unfinished by a member that stopped is delivered again to the next member', async () => {
  const topic = unique('handback');
  await client.ensureTopics([topic]);
  const groupId = unique('g');
  const { promise: blocked, resolve: release } = deferred();
  let started = false;
  const first = await client.consume(
    {
      groupId,
      topics: [topic],
      dlqTopic: unique('dlq'),
      decode: text,
      handle: async () => {
        started = true;
        await blocked;
        throw new Error('interrupted by shutdown');
      },
    },
    producer,
  );
  await producer.send(topic, [{ key: 'k', value: 'job-1' }]);
  await until(() => started);
  const stopping = first.stop();
  release();
  await stopping;

  const got = [];
  const second = await client.consume({ groupId, topics: [topic], dlqTopic: unique('dlq'), decode: text, handle: async (v) => void got.push(v) }, producer);
  await until(() => got.length === 1);
  await second.stop();
  assert.deepEqual(got, ['job-1']);
});

test('with maxInFlight, messages of one partition are handled side by side, never more than maxInFlight at once, and an unfinished one holds the committed offset back', async () => {
  const topic = unique('inflight');
  await client.ensureTopics([{ topic, partitions: 1 }]);
  const groupId = unique('g');
  const { promise: gate, resolve: release } = deferred();
  let inFlight = 0;
  let most = 0;
  const done = [];
  const handle = await client.consume(
    {
      groupId,
      topics: [topic],
      dlqTopic: unique('dlq'),
      maxInFlight: 3,
      decode: text,
      handle: async (v) => {
        inFlight += 1;
        most = Math.max(most, inFlight);
        try {
          if (v === 'slow') await gate;
          else await new Promise((r) => setTimeout(r, 400));
        } finally {
          inFlight -= 1;
        }
        done.push(v);
      },
    },
    producer,
  );
  // The slow one first, alone; the others in later requests, so they come in later fetches.
  await producer.send(topic, [{ key: 'same', value: 'slow' }]);
  await until(() => inFlight === 1);
  for (const value of ['a', 'b', 'c', 'd', 'e', 'f']) await producer.send(topic, [{ key: 'same', value }]);
  await until(() => done.length === 6);
  assert.deepEqual(done.sort(), ['a', 'b', 'c', 'd', 'e', 'f'], 'the others went past the slow one');
  assert.equal(most, 3, 'up to maxInFlight at once');

  const admin = client.kafka.admin();
  await admin.connect();
  const committed = async () => Number((await admin.fetchOffsets({ groupId, topics: [topic] }))[0].partitions[0].offset);
  try {
    assert.ok((await committed()) <= 0, 'nothing committed past the unfinished first message');
    release();
    await until(() => done.length === 7);
    const end = Date.now() + 10_000;
    while ((await committed()) !== 7 && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    assert.equal(await committed(), 7, 'all seven committed once the first is done');
  } finally {
    await admin.disconnect();
    await handle.stop();
  }
});

for (const maxInFlight of [undefined, 4]) {
  test(`${maxInFlight ? 'with maxInFlight' : 'in order'}: stop() lets the work in hand finish and commits it before leaving the group`, async () => {
    const topic = unique('drain');
    await client.ensureTopics([{ topic, partitions: 1 }]);
    const groupId = unique('g');
    const { promise: gate, resolve: release } = deferred();
    let started = 0;
    const spec = {
      groupId,
      topics: [topic],
      dlqTopic: unique('dlq'),
      maxInFlight,
      decode: text,
      handle: async () => {
        started += 1;
        await gate;
      },
    };
    const first = await client.consume(spec, producer);
    await producer.send(
      topic,
      ['one', 'two'].map((value) => ({ key: 'k', value })),
    );
    await until(() => started === (maxInFlight ? 2 : 1));
    const stopping = first.stop();
    await new Promise((r) => setTimeout(r, 200));
    release();
    await stopping;
    // In order, the second message is not taken once stopping: it goes to the next member.
    assert.equal(first.stats.processed, maxInFlight ? 2 : 1, 'the work in hand finished during the drain');

    const again = [];
    const second = await client.consume({ ...spec, handle: async (v) => void again.push(v) }, producer);
    await producer.send(topic, [{ key: 'k', value: 'three' }]);
    await until(() => again.includes('three'));
    await second.stop();
    assert.deepEqual(again, maxInFlight ? ['three'] : ['two', 'three'], 'what finished during the drain was committed, not delivered again');
  });
}

/** Creates the topic and sends it `count` keyed messages { n }; resolves with each partition's end offset, in partition order. */
async function filledTopic(topic, partitions, count) {
  await client.ensureTopics([{ topic, partitions }]);
  const sent = await producer.send(
    topic,
    Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: { n: i } })),
  );
  return Array.from({ length: partitions }, (_, p) => Math.max(...sent.filter((s) => s.partition === p).map((s) => Number(s.offset))) + 1);
}

const committedOffsets = async (groupId, topic) => {
  const admin = client.kafka.admin();
  await admin.connect();
  try {
    // In partition order; -1 where nothing is committed.
    const [{ partitions }] = await admin.fetchOffsets({ groupId, topics: [topic] });
    return [...partitions].sort((a, b) => a.partition - b.partition).map((p) => Number(p.offset));
  } finally {
    await admin.disconnect();
  }
};

test('in batch mode a fetched batch reaches the handler in one call, in offset order; a poison message and a rejected one go to the DLQ and the rest of the batch commits', async () => {
  const topic = unique('batch');
  const dlqTopic = unique('dlq');
  await client.ensureTopics([{ topic, partitions: 1 }, dlqTopic]);
  // Everything is on the partition before the consumer starts, so the first fetch holds it all.
  /** @type {Array<{ n: number } | string>} */
  const values = Array.from({ length: 200 }, (_, i) => ({ n: i }));
  values[17] = 'not json';
  await producer.send(
    topic,
    values.map((v) => ({ key: 'same', value: typeof v === 'string' ? Buffer.from(v) : v, headers: { mark: 'kept' } })),
  );
  const dlq = await collect(dlqTopic);
  const calls = [];
  const groupId = unique('g');
  const handle = await client.consume(
    {
      groupId,
      topics: [topic],
      dlqTopic,
      decode: (m) => JSON.parse(text(m)).n,
      handleBatch: async (items) => {
        calls.push(items.map((i) => i.value));
        const bad = items.find((i) => i.value === 42);
        return { rejected: bad ? [{ msg: bad.msg, error: new Error('42 is refused') }] : [] };
      },
    },
    producer,
  );
  await until(() => handle.stats.processed + handle.stats.sentToDlq === 200 && dlq.seen.length === 2);
  await handle.stop();
  await dlq.stop();
  const seen = calls.flat();
  assert.equal(seen.length, 199, 'every message that decoded was handed over once');
  assert.deepEqual(
    seen,
    [...seen].sort((a, b) => a - b),
    'in offset order',
  );
  assert.ok(calls.length < 10, `batches, not single messages: ${calls.length} calls for 199 messages`);
  assert.equal(handle.stats.processed, 198);
  const dead = dlq.seen.sort((a, b) => Number(a.headers['original-offset']) - Number(b.headers['original-offset']));
  assert.deepEqual(
    dead.map((m) => m.headers['original-offset']),
    ['17', '42'],
  );
  assert.equal(dead[0].value.toString(), 'not json', 'the original bytes');
  assert.equal(dead[0].headers.mark, 'kept', 'the original headers');
  assert.match(dead[0].headers['error-message'], /JSON/);
  assert.equal(dead[1].headers['error-message'], '42 is refused');
  assert.deepEqual(await committedOffsets(groupId, topic), [200], 'the whole batch is committed');
});

test('in batch mode a failing batch is retried whole, and nothing of it is committed before it succeeds', async () => {
  const topic = unique('batch-retry');
  await client.ensureTopics([{ topic, partitions: 1 }]);
  const groupId = unique('g');
  await producer.send(
    topic,
    ['a', 'b', 'c'].map((value) => ({ key: 'k', value })),
  );
  let calls = 0;
  const { promise: gate, resolve: release } = deferred();
  const got = [];
  const handle = await client.consume(
    {
      groupId,
      topics: [topic],
      dlqTopic: unique('dlq'),
      decode: text,
      handleBatch: async (items) => {
        calls += 1;
        if (calls === 1) {
          await gate;
          throw new Error('database briefly unavailable');
        }
        got.push(...items.map((i) => i.value));
      },
    },
    producer,
  );
  await until(() => calls === 1);
  assert.deepEqual(await committedOffsets(groupId, topic), [-1], 'nothing committed while the batch fails');
  release();
  await until(() => got.length === 3);
  await handle.stop();
  assert.deepEqual(got, ['a', 'b', 'c']);
  assert.equal(handle.stats.retries, 1);
  assert.deepEqual(await committedOffsets(groupId, topic), [3]);
});

test('in batch mode onAssignment sets where each assigned partition resumes, and no batch is handled before it answers', async () => {
  const topic = unique('stored-offsets');
  await client.ensureTopics([{ topic, partitions: 2 }]);
  await producer.send(
    topic,
    Array.from({ length: 20 }, (_, i) => ({ value: `p0-${i}`, partition: 0 })),
  );
  await producer.send(
    topic,
    Array.from({ length: 20 }, (_, i) => ({ value: `p1-${i}`, partition: 1 })),
  );
  const { promise: answer, resolve: release } = deferred();
  const asked = [];
  const got = [];
  const handle = await client.consume(
    {
      groupId: unique('g'),
      topics: [topic],
      dlqTopic: unique('dlq'),
      decode: text,
      // The handler's own store says partition 0 is done up to offset 15; it knows nothing of 1.
      onAssignment: async (partitions) => {
        asked.push(...partitions);
        await answer;
        return [{ topic, partition: 0, offset: '15' }];
      },
      handleBatch: async (items) => void got.push(...items.map((i) => i.value)),
    },
    producer,
  );
  await until(() => asked.length === 2);
  await new Promise((r) => setTimeout(r, 1500));
  assert.equal(got.length, 0, 'nothing is handled while the stored offsets are being read');
  release();
  await until(() => got.length === 25);
  await new Promise((r) => setTimeout(r, 500));
  await handle.stop();
  assert.deepEqual(asked.map((p) => p.partition).sort(), [0, 1]);
  assert.deepEqual(
    got.filter((v) => v.startsWith('p0-')),
    ['p0-15', 'p0-16', 'p0-17', 'p0-18', 'p0-19'],
    'partition 0 resumes at its stored offset',
  );
  assert.equal(got.filter((v) => v.startsWith('p1-')).length, 20, 'partition 1 resumes from the group offset (none: the beginning)');
});

test('offsets of work done are committed together, every partition in one request at the commit interval, and what is left when the consumer stops', async () => {
  const topic = unique('commit-interval');
  const ends = await filledTopic(topic, 3, 90);
  const groupId = unique('g');
  const spec = { groupId, topics: [topic], dlqTopic: unique('dlq'), decode: (m) => JSON.parse(text(m)).n };
  const byPartition = () => committedOffsets(groupId, topic);

  // A long interval: the batches are done, and nothing is committed until the consumer stops.
  const handle = await client.consume({ ...spec, commitIntervalMs: 600_000, handleBatch: async () => ({}) }, producer);
  await until(() => handle.stats.processed === 90);
  await new Promise((r) => setTimeout(r, 300));
  assert.deepEqual(await byPartition(), [-1, -1, -1], 'nothing committed while the interval runs');
  assert.equal(handle.stats.commits, 0);
  await handle.stop();
  assert.deepEqual(await byPartition(), ends, 'every partition committed to its end on stop');
  assert.equal(handle.stats.commits, 1, 'in one request');

  // A short interval: committed while running, without a stop.
  const more = await producer.send(
    topic,
    Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, value: { n: i } })),
  );
  const moreEnds = [0, 1, 2].map((p) => Math.max(ends[p] - 1, ...more.filter((s) => s.partition === p).map((s) => Number(s.offset))) + 1);
  const second = await client.consume({ ...spec, commitIntervalMs: 50, handleBatch: async () => ({}) }, producer);
  try {
    await until(() => second.stats.processed === 30);
    await eventually(async () => (assert.deepEqual(await byPartition(), moreEnds), true), { timeoutMs: 10_000, intervalMs: 100 });
  } finally {
    await second.stop();
  }
});

test('with combinePartitions, the batches of partitions handled together reach the handler in one call (at most maxBatchSize messages), each partition in offset order; a rejected message goes to the DLQ from its own partition', async () => {
  const topic = unique('combined');
  const dlqTopic = unique('dlq');
  await client.ensureTopics([{ topic, partitions: 3 }, dlqTopic]);
  // Everything is on the partitions before the consumer starts: the first fetch holds it all.
  const sent = await producer.send(
    topic,
    Array.from({ length: 150 }, (_, i) => ({ key: `k${i}`, value: { n: i } })),
  );
  assert.equal(new Set(sent.map((s) => s.partition)).size, 3);
  const dlq = await collect(dlqTopic);
  /** @type {Array<Array<{ n: number, partition: number, offset: number }>>} */
  const calls = [];
  const groupId = unique('g');
  const handle = await client.consume(
    {
      groupId,
      topics: [topic],
      dlqTopic,
      decode: (m) => JSON.parse(text(m)).n,
      combinePartitions: true,
      partitionsConsumedConcurrently: 3,
      handleBatch: async (items) => {
        calls.push(items.map((i) => ({ n: i.value, partition: i.msg.partition, offset: Number(i.msg.offset) })));
        const bad = items.find((i) => i.value === 99);
        return { rejected: bad ? [{ msg: bad.msg, error: new Error('99 is refused') }] : [] };
      },
    },
    producer,
  );
  await until(() => handle.stats.processed + handle.stats.sentToDlq === 150 && dlq.seen.length === 1);
  await handle.stop();
  await dlq.stop();
  const seen = calls.flat();
  assert.equal(seen.length, 150, 'every message handed over once');
  assert.ok(
    calls.some((c) => new Set(c.map((x) => x.partition)).size > 1),
    `a call carried several partitions: ${calls.map((c) => c.length).join(', ')}`,
  );
  for (const p of [0, 1, 2]) {
    const offsets = seen.filter((x) => x.partition === p).map((x) => x.offset);
    assert.deepEqual(
      offsets,
      [...offsets].sort((a, b) => a - b),
      `partition ${p} in offset order`,
    );
  }
  const ninetyNine = sent[99];
  assert.equal(dlq.seen[0].headers['original-partition'], String(ninetyNine.partition));
  assert.equal(dlq.seen[0].headers['original-offset'], ninetyNine.offset);
  assert.equal(handle.stats.processed, 149);
});

/**
 * Consumes 150 messages of 3 partitions with combinePartitions (and maxConcurrentCalls when
 * given); each call waits up to 2 s for another to be under way. Returns the most calls seen
 * under way at once, and whether a partition was ever in two calls at once.
 */
async function callsAtOnce(maxConcurrentCalls) {
  const topic = unique('overlap');
  await client.ensureTopics([{ topic, partitions: 3 }]);
  await producer.send(
    topic,
    Array.from({ length: 150 }, (_, i) => ({ key: `k${i}`, value: { n: i } })),
  );
  let underWay = 0;
  let most = 0;
  let sharedPartition = false;
  const held = new Set();
  let another;
  const anotherStarted = new Promise((resolve) => (another = resolve));
  const handle = await client.consume(
    {
      groupId: unique('g'),
      topics: [topic],
      dlqTopic: unique('dlq'),
      decode: (m) => JSON.parse(text(m)).n,
      combinePartitions: true,
      partitionsConsumedConcurrently: 3,
      ...(maxConcurrentCalls ? { maxConcurrentCalls } : {}),
      handleBatch: async (items) => {
        const partitions = new Set(items.map((i) => i.msg.partition));
        for (const p of partitions) {
          if (held.has(p)) sharedPartition = true;
          held.add(p);
        }
        underWay += 1;
        most = Math.max(most, underWay);
        if (underWay > 1) another();
        await Promise.race([anotherStarted, new Promise((r) => setTimeout(r, 2000))]);
        underWay -= 1;
        for (const p of partitions) held.delete(p);
      },
    },
    producer,
  );
  await until(() => handle.stats.processed === 150);
  await handle.stop();
  return { most, sharedPartition };
}

test('with combinePartitions and maxConcurrentCalls 2, a second call starts while the first is under way, never with a partition the first holds', async () => {
  const { most, sharedPartition } = await callsAtOnce(2);
  assert.equal(most, 2, 'two calls under way at once');
  assert.equal(sharedPartition, false, 'no partition in two calls at once');
});

test('with combinePartitions alone, one call is under way at a time', async () => {
  const { most } = await callsAtOnce(undefined);
  assert.equal(most, 1);
});

test('onDeadLetters is called with what went to the DLQ, and while it fails it is retried alone: each message reaches the DLQ once', async () => {
  const topic = unique('recorded');
  const dlqTopic = unique('dlq');
  await client.ensureTopics([{ topic, partitions: 1 }, dlqTopic]);
  const dlq = await collect(dlqTopic);
  let calls = 0;
  /** @type {string[]} */
  const recorded = [];
  const handle = await client.consume(
    {
      groupId: unique('g'),
      topics: [topic],
      dlqTopic,
      decode: (m) => JSON.parse(text(m)),
      handleBatch: async () => ({}),
      onDeadLetters: async (entries) => {
        calls += 1;
        if (calls < 3) throw new Error('database briefly unavailable');
        recorded.push(...entries.map((e) => e.msg.offset));
      },
    },
    producer,
  );
  await producer.send(topic, [
    { key: 'k', value: Buffer.from('not json') },
    { key: 'k', value: { ok: 1 } },
  ]);
  await until(() => recorded.length === 1 && handle.stats.processed === 1);
  await new Promise((r) => setTimeout(r, 500));
  await handle.stop();
  await dlq.stop();
  assert.equal(calls, 3, 'the hook was tried until it succeeded');
  assert.deepEqual(recorded, ['0']);
  assert.equal(dlq.seen.length, 1, 'the dead letter was sent once, not once per try of the hook');
});

test('offsets noted but not yet committed are committed when a rebalance begins, so the next owner does not redo the work', async () => {
  const topic = unique('rebalance');
  const ends = await filledTopic(topic, 2, 20);
  const groupId = unique('g');
  const spec = { groupId, topics: [topic], dlqTopic: unique('dlq'), decode: (m) => JSON.parse(text(m)).n, commitIntervalMs: 600_000 };
  const first = await client.consume({ ...spec, handleBatch: async () => ({}) }, producer);
  /** @type {number[]} */
  const redone = [];
  let second;
  try {
    await until(() => first.stats.processed === 20);
    assert.equal(first.stats.commits, 0, 'nothing committed yet: the interval is long');
    second = await client.consume({ ...spec, handleBatch: async (items) => void redone.push(...items.map((i) => i.value)) }, producer);
    await until(() => first.isHealthy() && second.isHealthy());
    assert.deepEqual(await committedOffsets(groupId, topic), ends, 'committed at the rebalance');
    await new Promise((r) => setTimeout(r, 1000));
    assert.deepEqual(redone, [], 'the next owner starts after the work done');
  } finally {
    await second?.stop();
    await first.stop();
  }
});

test('sends made at the same time share produce requests and each learns its own partition and offset', async () => {
  const topics = [unique('share-a'), unique('share-b')];
  await client.ensureTopics(topics.map((topic) => ({ topic, partitions: 3 })));
  const results = await Promise.all(Array.from({ length: 300 }, (_, i) => producer.send(topics[i % 2], [{ key: `k${i}`, value: `v${i}` }])));
  const seen = [];
  for (const topic of topics) {
    const c = client.kafka.consumer({ groupId: unique('reader') });
    await c.connect();
    await c.subscribe({ topics: [topic], fromBeginning: true });
    await c.run({ eachMessage: async ({ partition, message }) => void seen.push({ topic, partition, offset: message.offset, value: text(message) }) });
    await until(() => seen.filter((s) => s.topic === topic).length === 150);
    await c.disconnect();
  }
  results.forEach(([r], i) => {
    const at = seen.find((s) => s.topic === r.topic && s.partition === r.partition && s.offset === r.offset);
    assert.equal(at?.value, `v${i}`, `send ${i} was told where its message is`);
  });
});

// A consumer that crashes in a way kafkajs will not restart (an unexpected error in the consumer
// path) is made anew with backoff and carries on; one that keeps crashing stops being live.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startKafkaClient, eventually } from '@pipewright/testkit';

/** @type {import('@pipewright/testkit').PlatformKafka} */
let kafka;
/** @type {import('@pipewright/platform').KafkaClient} */
let client;
/** @type {import('@pipewright/platform').MessageProducer} */
let producer;

before(async () => {
  kafka = await startKafkaClient('consumer-restart-test', { partitions: 1 });
  ({ client, producer } = kafka);
});

after(async () => kafka?.stop());

const unique = (p) => `${p}.${randomBytes(4).toString('hex')}`;
// A batch outcome the consumer cannot read (a rejection without its message) makes it throw
// outside the handler: an unexpected, non-retriable error, as a bug would.
/** @type {import('@pipewright/platform').BatchOutcome} */
const malformed = /** @type {any} */ ({ rejected: [{ msg: undefined, error: new Error('x') }] });

test('a consumer crash kafkajs does not restart is restarted with backoff and the batch is handled then', async () => {
  const topic = unique('restart');
  await client.ensureTopics([{ topic, partitions: 1 }]);
  let calls = 0;
  const done = [];
  const handle = await client.consume({
    groupId: unique('g'),
    topics: [topic],
    dlqTopic: unique('dlq'),
    decode: (m) => m.value?.toString(),
    handleBatch: async (items) => {
      calls += 1;
      if (calls === 1) return malformed;
      done.push(...items.map((i) => i.value));
      return {};
    },
  }, producer);
  await producer.send(topic, [{ key: 'k', value: 'work' }]);
  await eventually(() => done.length === 1, { timeoutMs: 30_000, message: 'handled after the restart' });
  assert.equal(handle.stats.restarts, 1);
  assert.equal(handle.isLive(), true);
  await eventually(() => handle.isHealthy(), { timeoutMs: 20_000, message: 'a member of its group again' });
  await handle.stop();
});

test('a consumer that keeps crashing gives up after maxRestarts and is no longer live', async () => {
  const topic = unique('crashing');
  await client.ensureTopics([{ topic, partitions: 1 }]);
  const handle = await client.consume({
    groupId: unique('g'),
    topics: [topic],
    dlqTopic: unique('dlq'),
    maxRestarts: 1,
    decode: (m) => m.value?.toString(),
    handleBatch: async () => malformed,
  }, producer);
  await producer.send(topic, [{ key: 'k', value: 'poison for the consumer itself' }]);
  await eventually(() => !handle.isLive(), { timeoutMs: 30_000, message: 'no longer live' });
  assert.equal(handle.stats.restarts, 2, 'one restart, then the crash that gives up');
  await handle.stop();
});

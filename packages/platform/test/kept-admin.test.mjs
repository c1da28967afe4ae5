// Health pings and the lag read at each metrics scrape go over one admin connection kept open:
// a scrape costs its offset requests, not a connection, a handshake and a metadata round of its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startKafkaClient } from '@pipewright/testkit';

/** @type {import('@pipewright/testkit').PlatformKafka} */
let kafka;

before(async () => {
  kafka = await startKafkaClient('kept-admin-test', { partitions: 1 });
});

after(async () => {
  await kafka?.client.close();
  await kafka?.stop();
});

/** Counts the admin clients the KafkaClient makes from here on. */
function countAdmins(client) {
  const made = { n: 0 };
  const admin = client.kafka.admin.bind(client.kafka);
  client.kafka.admin = (...args) => {
    made.n += 1;
    return admin(...args);
  };
  return made;
}

test('pings and lag reads share one admin connection; after a failed call the next one connects anew', async () => {
  const { client } = kafka;
  await client.close();
  const made = countAdmins(client);
  await client.ping();
  await client.ping();
  const topics = await client.withKeptAdmin((admin) => admin.listTopics());
  assert.ok(Array.isArray(topics));
  await client.ping();
  assert.equal(made.n, 1);
  await assert.rejects(
    client.withKeptAdmin(async () => {
      throw new Error('refused');
    }),
    /refused/,
  );
  await client.ping();
  await client.ping();
  assert.equal(made.n, 2);
});

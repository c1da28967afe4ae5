// Orders in the Confluent wire format through a real schema registry (Apicurio Registry, its
// Confluent API): the gateway registers order.avsc under orders-value and writes magic byte 0,
// the schema id and the Avro body; the aggregator resolves each writer's schema by id, so an
// older or a newer compatible producer's orders are counted; an unknown id goes to orders-dlq.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import avro from 'avsc';
import { TOPICS, olderOrderSchemas, orderSchema as schema } from '@pipewright/contracts';

/** @type {any} */
const orderSchema = schema;
import { startOrderStack, eventually, tapTopic, testDir } from '@pipewright/testkit';

// By a specifier tsc does not follow: scripts/lib's JavaScript carries no types yet.
const REGISTRY_MODULE = '../scripts/lib/registry.mjs';
const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';

/** @type {{ url: string, stop: () => Promise<unknown> }} */
let registry;
/** @type {import('@pipewright/testkit').OrderStack} */
let orders;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('kafkajs').Producer} */
let producer;
/** @type {import('@pipewright/testkit').Tap} */
let dlq;
/** @type {import('@pipewright/testkit').Tap} */
let topic;

before(async () => {
  const { startRegistry } = await import(REGISTRY_MODULE);
  registry = await startRegistry({ logFile: join(testDir(), `orders-registry-${process.pid}.log`) });
  orders = await startOrderStack({ services: ['ingest-gateway', 'order-aggregator'], env: { SCHEMA_REGISTRY_URL: registry.url } });
  ({ stack, producer, dlq } = orders);
  topic = await tapTopic(stack.kafka, TOPICS.orders);
});

after(async () => {
  await topic?.stop();
  await orders?.stop();
  await registry?.stop();
});

/** Registers a schema under orders-value as another producer would; returns its id. */
async function register(schema) {
  const res = await fetch(`${registry.url}/subjects/${TOPICS.orders}-value/versions`, { method: 'POST', headers: { 'content-type': CONTENT_TYPE }, body: JSON.stringify({ schema: JSON.stringify(schema) }) });
  assert.equal(res.status, 200, await res.clone().text());
  return /** @type {{ id: number }} */ (await res.json()).id;
}

/** Magic byte 0, the schema id (4 bytes, big-endian), the Avro body. */
function framed(id, body) {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(id, 1);
  return Buffer.concat([header, body]);
}

const aggregate = (product) => eventually(() => stack.client('order-aggregator').getAggregate({ product }).catch(() => undefined), { timeoutMs: 30_000, message: `aggregate of ${product}` });

test('the gateway registers order.avsc under orders-value and writes the Confluent framing, which the aggregator reads', async () => {
  const product = `framed-${randomUUID().slice(0, 8)}`;
  const orderId = randomUUID();
  await stack.client('ingest-gateway').submitOrders({ orders: [{ orderId, product, price: 12.5, quantity: 2, currency: 'EUR', customerId: '', createdAt: undefined }] });
  const a = await aggregate(product);
  assert.equal(a.total, '25');
  const res = await fetch(`${registry.url}/subjects/${TOPICS.orders}-value/versions/latest`);
  const latest = /** @type {{ id: number, schema: string }} */ (await res.json());
  assert.deepEqual(JSON.parse(latest.schema).fields.map((f) => f.name), orderSchema.fields.map((f) => f.name));
  const m = await eventually(() => topic.messages.find((x) => x.key?.toString() === orderId), { timeoutMs: 20_000, message: 'the order on the topic' });
  assert.ok(m.value);
  assert.equal(m.value[0], 0, 'magic byte 0');
  assert.equal(m.value.readUInt32BE(1), latest.id, 'the registered schema id');
});

test('orders written with an older and with a newer compatible schema are resolved by their id and counted', async () => {
  const product = `evolved-${randomUUID().slice(0, 8)}`;
  const older = olderOrderSchemas[0];
  const newer = { ...orderSchema, fields: [...orderSchema.fields, { name: 'coupon', type: 'string', default: '' }] };
  const olderId = await register(older);
  const newerId = await register(newer);
  assert.notEqual(olderId, newerId);
  await producer.send({
    topic: TOPICS.orders,
    messages: [
      { key: 'old', value: framed(olderId, avro.Type.forSchema(older).toBuffer({ orderId: randomUUID(), product, price: 1.25 })) },
      { key: 'new', value: framed(newerId, avro.Type.forSchema(newer).toBuffer({ orderId: randomUUID(), product, price: 2, quantity: 3, currency: 'USD', customerId: null, createdAt: null, coupon: 'SPRING' })) },
    ],
  });
  const a = await eventually(async () => {
    const x = await aggregate(product);
    return x.count === 2 ? x : undefined;
  }, { timeoutMs: 30_000, message: 'both orders counted' });
  assert.equal(a.total, '7.25');
  assert.equal(a.quantity, 4, 'the older order has quantity 1');
});

test('an unknown schema id and bytes without the framing go to orders-dlq as they are', async () => {
  const start = dlq.messages.length;
  const unknown = framed(987654, Buffer.from([0x02, 0x61]));
  const unframed = Buffer.from([0x02, 0x61, 0x02, 0x62, 0, 0, 0x80, 0x3f]);
  await producer.send({ topic: TOPICS.orders, messages: [{ key: 'unknown-id', value: unknown }, { key: 'unframed', value: unframed }] });
  const got = await eventually(() => (dlq.messages.length - start >= 2 ? dlq.messages.slice(start) : undefined), { timeoutMs: 30_000, message: 'two dead letters' });
  const byKey = Object.fromEntries(got.map((m) => [m.key?.toString(), m]));
  assert.ok(byKey['unknown-id']?.value?.equals(unknown));
  assert.match(byKey['unknown-id'].headersText['error-message'], /unknown schema id 987654/);
  assert.ok(byKey.unframed?.value?.equals(unframed));
  assert.match(byKey.unframed.headersText['error-message'], /Confluent wire format/);
});

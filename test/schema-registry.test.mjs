// The schema registry the project runs (Apicurio Registry, scripts/lib/registry.mjs) through
// its Confluent-compatible API: an Avro schema registered under a subject is read back by id,
// registering it again gives the same id, and a backward-compatible second version (a new field
// with a default) gets a new id while an incompatible one is refused.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { testDir } from '@pipewright/testkit';

// By a specifier tsc does not follow: scripts/lib's JavaScript carries no types yet, and the
// tests' type check (tsconfig.tests.json) would check it through a literal import.
const REGISTRY_MODULE = '../scripts/lib/registry.mjs';

const CONTENT_TYPE = 'application/vnd.schemaregistry.v1+json';
const SUBJECT = 'orders-value';

const orderV1 = {
  type: 'record',
  name: 'Order',
  namespace: 'dev.pipewright.orders',
  fields: [
    { name: 'orderId', type: 'string' },
    { name: 'amountCents', type: 'long' },
  ],
};
const orderV2 = { ...orderV1, fields: [...orderV1.fields, { name: 'currency', type: 'string', default: 'EUR' }] };
const incompatible = { ...orderV1, fields: [...orderV1.fields, { name: 'customerId', type: 'string' }] };

/** @type {{ url: string, stop: () => Promise<unknown> }} */
let registry;
before(async () => {
  const { startRegistry } = await import(REGISTRY_MODULE);
  registry = await startRegistry({ logFile: join(testDir(), `schema-registry-${process.pid}.log`) });
});
after(async () => registry?.stop());

/**
 * A request to the Confluent API; resolves with the status and the parsed body.
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<{ status: number, body: any }>}
 */
async function call(method, path, body) {
  const res = await fetch(`${registry.url}${path}`, {
    method,
    headers: { accept: CONTENT_TYPE, ...(body ? { 'content-type': CONTENT_TYPE } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, body: await res.json() };
}

/** @param {object} schema */
const register = (schema) => call('POST', `/subjects/${SUBJECT}/versions`, { schema: JSON.stringify(schema) });

test('an Avro schema registers under a subject, reads back by id, and evolves backward-compatibly', async () => {
  const first = await register(orderV1);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(typeof first.body.id, 'number');

  const byId = await call('GET', `/schemas/ids/${first.body.id}`);
  assert.equal(byId.status, 200, JSON.stringify(byId.body));
  assert.deepEqual(JSON.parse(byId.body.schema), orderV1);

  const again = await register(orderV1);
  assert.equal(again.status, 200, JSON.stringify(again.body));
  assert.equal(again.body.id, first.body.id, 'the same schema keeps its id');

  const second = await register(orderV2);
  assert.equal(second.status, 200, JSON.stringify(second.body));
  assert.notEqual(second.body.id, first.body.id);
  assert.deepEqual(JSON.parse((await call('GET', `/schemas/ids/${second.body.id}`)).body.schema), orderV2);

  const refused = await register(incompatible);
  assert.equal(refused.status, 409, `a new field without a default is not backward compatible: ${JSON.stringify(refused.body)}`);

  const versions = await call('GET', `/subjects/${SUBJECT}/versions`);
  assert.deepEqual(versions.body, [1, 2]);
  const latest = await call('GET', `/subjects/${SUBJECT}/versions/latest`);
  assert.equal(latest.body.id, second.body.id);
  assert.equal(latest.body.version, 2);
});

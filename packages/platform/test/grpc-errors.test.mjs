// Errors at the gRPC edge, through a real grpc-js server and client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { unary, invalidArgument, grpc, createLogger, withUnimplemented } from '@pipewright/platform';

const require = createRequire(import.meta.url);
const protobuf = require('protobufjs');

const logged = [];
const logger = createLogger('test', 'fatal');
for (const level of ['warn', 'error']) logger[level] = (obj, msg) => logged.push({ level, obj, msg });

// A service whose one method throws what the request names.
const definition = {
  fail: {
    path: '/test.Errors/Fail', requestStream: false, responseStream: false,
    requestSerialize: (v) => Buffer.from(v), requestDeserialize: (b) => b.toString(),
    responseSerialize: (v) => Buffer.from(v), responseDeserialize: (b) => b.toString(),
  },
};
const throwing = {
  invalid: () => invalidArgument('jobs[1].app_name', 'is required', [{ field: 'jobs[2].schedule.cron', description: '"0 0 31 2 *" never matches a date' }]),
  kafka: () => Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSNumberOfRetriesExceeded', originalError: Object.assign(new Error('connect ECONNREFUSED'), { name: 'KafkaJSConnectionError' }) }),
  postgres: () => Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
  bug: () => new TypeError("Cannot read properties of undefined (reading 'secret-internals')"),
};

let server;
let client;
before(async () => {
  server = new grpc.Server();
  server.addService(definition, { fail: unary(logger, async (req) => { throw throwing[req](); }) });
  const port = await new Promise((res, rej) => server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const Client = grpc.makeGenericClientConstructor(definition, 'Errors');
  client = new Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
});
after(() => {
  client?.close();
  server?.forceShutdown();
});

const call = (what) => new Promise((resolve) => client.fail(what, (err) => resolve(err)));

test('INVALID_ARGUMENT names the field in its message and carries google.rpc.BadRequest field violations', async () => {
  const err = await call('invalid');
  assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
  assert.match(err.details, /^jobs\[1\]\.app_name: is required; also jobs\[2\]\.schedule\.cron: "0 0 31 2 \*" never matches a date$/);
  const root = protobuf.Root.fromJSON({ nested: {
    Any: { fields: { typeUrl: { type: 'string', id: 1 }, value: { type: 'bytes', id: 2 } } },
    Status: { fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 }, details: { rule: 'repeated', type: 'Any', id: 3 } } },
    FieldViolation: { fields: { field: { type: 'string', id: 1 }, description: { type: 'string', id: 2 } } },
    BadRequest: { fields: { fieldViolations: { rule: 'repeated', type: 'FieldViolation', id: 1 } } },
  } });
  const Status = root.lookupType('Status');
  const status = Status.toObject(Status.decode(/** @type {Buffer} */ (err.metadata.get('grpc-status-details-bin')[0])));
  assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
  assert.equal(status.details[0].typeUrl, 'type.googleapis.com/google.rpc.BadRequest');
  const BadRequest = root.lookupType('BadRequest');
  const bad = BadRequest.toObject(BadRequest.decode(status.details[0].value));
  assert.deepEqual(bad.fieldViolations.map((v) => ({ field: v.field, description: v.description })), [
    { field: 'jobs[1].app_name', description: 'is required' },
    { field: 'jobs[2].schedule.cron', description: '"0 0 31 2 *" never matches a date' },
  ]);
  assert.equal(logged.length, 0, "the caller's mistake is not logged as a failure");
});

test('a lost Kafka or PostgreSQL connection is UNAVAILABLE, so that clients retry', async () => {
  for (const what of ['kafka', 'postgres']) {
    const err = await call(what);
    assert.equal(err.code, grpc.status.UNAVAILABLE, what);
    assert.match(err.details, /unavailable; try again \(error id [0-9a-f]{12}\)/);
  }
});

test('an unexpected error is INTERNAL with a generic message; the log keeps the real error under the same id', async () => {
  logged.length = 0;
  const err = await call('bug');
  assert.equal(err.code, grpc.status.INTERNAL);
  assert.doesNotMatch(err.details, /secret-internals/, 'nothing of the real error reaches the client');
  const id = err.details.match(/error id ([0-9a-f]{12})/)[1];
  assert.equal(logged.length, 1);
  assert.equal(logged[0].obj.errorId, id);
  assert.match(logged[0].obj.err.message, /secret-internals/);
  assert.equal(logged[0].obj.method, '/test.Errors/Fail');
});

test('methods without a handler answer UNIMPLEMENTED, a stream ending with it at once', async () => {
  const text = { requestSerialize: (v) => Buffer.from(v), requestDeserialize: (b) => b.toString(), responseSerialize: (v) => Buffer.from(v), responseDeserialize: (b) => b.toString() };
  const later = {
    soon: { path: '/test.Later/Soon', requestStream: false, responseStream: false, ...text },
    watch: { path: '/test.Later/Watch', requestStream: false, responseStream: true, ...text },
  };
  const s = new grpc.Server();
  s.addService(later, withUnimplemented(later, {}));
  const port = await new Promise((res, rej) => s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))));
  const c = new (grpc.makeGenericClientConstructor(later, 'Later'))(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  try {
    const unaryErr = await new Promise((resolve) => c.soon('x', (err) => resolve(err)));
    assert.equal(unaryErr.code, grpc.status.UNIMPLEMENTED);
    assert.equal(unaryErr.details, '/test.Later/Soon is not implemented yet');
    const started = Date.now();
    const streamErr = await new Promise((resolve) => {
      const call = c.watch('x', { deadline: Date.now() + 10_000 });
      call.on('data', () => resolve(new Error('a message arrived')));
      call.on('error', resolve);
      call.on('end', () => resolve(new Error('the stream ended without a status error')));
    });
    assert.equal(streamErr.code, grpc.status.UNIMPLEMENTED, streamErr.message);
    assert.ok(Date.now() - started < 5000, 'answered before the deadline');
  } finally {
    c.close();
    s.forceShutdown();
  }
});

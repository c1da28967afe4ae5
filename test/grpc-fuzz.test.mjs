// Bad input at a gRPC door (the gateway's): random bytes, a jobData struct nested 20,000 deep,
// invalid UTF-8 in strings, huge repeated fields and a message over the size limit. Every call
// gets INVALID_ARGUMENT or RESOURCE_EXHAUSTED, the process keeps serving, and its memory stays
// bounded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { status } from '@grpc/grpc-js';
import { startStack, healthCheck } from '@pipewright/testkit';

const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('@grpc/grpc-js').Client} */
let client;
const METHOD = '/pipewright.ingest.v1.IngestGateway/ScheduleJob';
const BATCH_METHOD = '/pipewright.ingest.v1.IngestGateway/ScheduleJobs';
const MAX_BYTES = 1024 * 1024;

before(async () => {
  stack = await startStack({ services: ['ingest-gateway'], envFor: { 'ingest-gateway': { GRPC_MAX_MESSAGE_BYTES: String(MAX_BYTES) } } });
  client = new grpc.Client(stack.address('ingest-gateway'), grpc.credentials.createInsecure(), { 'grpc.max_send_message_length': 16 * MAX_BYTES });
});

after(async () => {
  client?.close();
  await stack?.stop();
});

/** Sends raw bytes as the request of `method`; resolves with the status code it ended with. */
const send = (bytes, method = METHOD) =>
  new Promise((resolve) => {
    client.makeUnaryRequest(method, (b) => b, (b) => b, bytes, new grpc.Metadata(), { deadline: Date.now() + 10_000 }, (err) => resolve(err ? { code: err.code, details: err.details } : { code: status.OK, details: '' }));
  });

// Protobuf wire format, by hand: a varint, a length-delimited field.
const varint = (n) => {
  const out = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
};
const field = (no, bytes) => Buffer.concat([varint((no << 3) | 2), varint(bytes.length), bytes]);

/** A google.protobuf.Struct {"a": {"a": {... depth ...}}}. */
function nestedStruct(depth) {
  let struct = Buffer.alloc(0);
  for (let i = 0; i < depth; i += 1) {
    const value = field(5, struct); // Value.struct_value
    const entry = Buffer.concat([field(1, Buffer.from('a')), field(2, value)]); // map entry
    struct = field(1, entry); // Struct.fields
  }
  return struct;
}

const rssKb = (pid) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

test('every malformed request is INVALID_ARGUMENT or RESOURCE_EXHAUSTED, the gateway keeps serving, and its memory stays bounded', async () => {
  const pid = stack.proc('ingest-gateway').child.pid ?? 0;
  const rssBefore = rssKb(pid);
  const outcomes = new Map();
  const expect = async (what, bytes, codes, method = METHOD) => {
    const r = await send(bytes, method);
    outcomes.set(what, r);
    assert.ok(codes.includes(r.code), `${what}: got ${status[r.code]} (${r.details})`);
    return r;
  };

  // Random bytes, from a fixed seed so that a failure can be replayed.
  let x = 42;
  const rand = () => (x = (x * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let i = 0; i < 300; i += 1) {
    const bytes = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 200) }, () => Math.floor(rand() * 256)));
    await expect(`random bytes #${i}`, bytes, [status.INVALID_ARGUMENT]);
  }
  const truncated = Buffer.concat([field(2, Buffer.from('sms')), Buffer.from([0x32, 0xff, 0x01])]);
  await expect('a length running past the end', truncated, [status.INVALID_ARGUMENT]);

  const deep = await expect('jobData nested 20,000 deep', Buffer.concat([field(2, Buffer.from('sms')), field(6, nestedStruct(20_000))]), [status.INVALID_ARGUMENT]);
  assert.match(deep.details, /nested too deeply|job_data/);

  await expect('invalid UTF-8 in app_name', field(2, Buffer.from([0xff, 0xfe, 0xc3, 0x28])), [status.INVALID_ARGUMENT]);
  await expect('invalid UTF-8 in scheduled_time', Buffer.concat([field(2, Buffer.from('sms')), field(3, Buffer.from([0xe2, 0x28, 0xa1]))]), [status.INVALID_ARGUMENT]);

  const oneJob = field(1, field(2, Buffer.from('sms')));
  const huge = await expect('ScheduleJobs with 100,000 jobs', Buffer.concat(Array.from({ length: 100_000 }, () => oneJob)), [status.INVALID_ARGUMENT], BATCH_METHOD);
  assert.match(huge.details, /at most/);
  await expect('a request over GRPC_MAX_MESSAGE_BYTES', field(2, Buffer.alloc(MAX_BYTES + 1, 0x61)), [status.RESOURCE_EXHAUSTED]);

  assert.equal(stack.proc('ingest-gateway').exited(), undefined, 'the gateway is still running');
  assert.equal(await healthCheck(stack.address('ingest-gateway')), 'SERVING');
  const grownMb = (rssKb(pid) - rssBefore) / 1024;
  assert.ok(grownMb < 150, `memory grew by ${grownMb.toFixed(0)} MB`);
  // A good request is still served.
  const good = await send(Buffer.concat([field(2, Buffer.from('sms')), field(3, Buffer.from(new Date(Date.now() + 3_600_000).toISOString()))]));
  assert.equal(good.code, status.OK, good.details);
});

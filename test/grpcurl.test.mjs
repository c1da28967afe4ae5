// Every service as grpcurl sees it with no proto files at hand: reflection lists the services,
// describes them (health included) with descriptors grpcurl accepts, and a call goes through.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SERVICES } from '@pipewright/contracts';
import { startStack, LAUNCHED_SERVICES } from '@pipewright/testkit';
import { ensureGrpcurl, grpcurl } from '../scripts/lib/grpcurl.mjs';

/** The gRPC service each service serves besides grpc.health.v1.Health (services.json). */
const API = Object.fromEntries(SERVICES.map((s) => [s.name, s.grpcService]));

/** @type {string} */
let bin;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
before(async () => {
  bin = ensureGrpcurl();
  stack = await startStack({ services: SERVICES.map((s) => s.name) });
});
after(async () => stack?.stop());

const ok = (r, what) => {
  assert.equal(r.status, 0, `${what} failed: ${r.stderr}`);
  return r.stdout;
};

test('the seven services are all covered', () => {
  assert.deepEqual(Object.keys(API).sort(), [...LAUNCHED_SERVICES].sort());
});

for (const [name, api] of Object.entries(API)) {
  test(`${name}: grpcurl lists, describes and calls grpc.health.v1.Health/Check through reflection`, () => {
    const addr = stack.address(name);
    const listed = ok(grpcurl(bin, addr, ['list']), 'grpcurl list').trim().split('\n').sort();
    assert.deepEqual(listed, ['grpc.health.v1.Health', api].sort());

    const health = ok(grpcurl(bin, addr, ['describe', 'grpc.health.v1.Health']), 'describe grpc.health.v1.Health');
    assert.match(health, /rpc Check \( \.grpc\.health\.v1\.HealthCheckRequest \) returns \( \.grpc\.health\.v1\.HealthCheckResponse \)/);
    assert.match(health, /rpc Watch/);
    // The map field whose synthesized entry type grpcurl checks by name.
    const list = ok(grpcurl(bin, addr, ['describe', 'grpc.health.v1.HealthListResponse']), 'describe HealthListResponse');
    assert.match(list, /map<string, \.grpc\.health\.v1\.HealthCheckResponse> statuses = 1;/);

    const own = ok(grpcurl(bin, addr, ['describe', api]), `describe ${api}`);
    assert.match(own, new RegExp(`service ${api.split('.').pop()} \\{`));

    assert.deepEqual(JSON.parse(ok(grpcurl(bin, addr, ['grpc.health.v1.Health/Check']), 'Health/Check')), { status: 'SERVING' });
    assert.deepEqual(JSON.parse(ok(grpcurl(bin, addr, ['grpc.health.v1.Health/Check'], { data: { service: api } }), `Health/Check ${api}`)), { status: 'SERVING' });
    assert.deepEqual(JSON.parse(ok(grpcurl(bin, addr, ['grpc.health.v1.Health/Check'], { data: { service: 'liveness' } }), 'Health/Check liveness')), { status: 'SERVING' });
  });
}

test('the README\'s ScheduleJob through grpcurl: job_data (a google.protobuf.Struct) resolves and the job is accepted', () => {
  const scheduledTime = new Date(Date.now() + 86_400_000).toISOString();
  const data = { appName: 'sms', scheduledTime, jobData: { to: '+15550100' } };
  const res = JSON.parse(ok(grpcurl(bin, stack.address('ingest-gateway'), ['pipewright.ingest.v1.IngestGateway/ScheduleJob'], { data }), 'ScheduleJob'));
  assert.match(res.requestId, /^[0-9a-f-]{36}$/);
  const bad = grpcurl(bin, stack.address('ingest-gateway'), ['pipewright.ingest.v1.IngestGateway/ScheduleJob'], { data: {} });
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /Code: InvalidArgument/);
  assert.match(bad.stderr, /app_name: is required/);
});

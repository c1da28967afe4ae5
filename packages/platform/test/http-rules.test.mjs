// The HTTP/JSON door's rules without a server: path templates, requests built from the path, the
// query and the body under the google.api.http rules, and the proto3 JSON mapping both ways.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { descriptorJsonPath } from '@pipewright/proto';
import { compileTemplate, routesOf, requestOf, ProtoTypes, FieldError } from '@pipewright/platform';

const real = JSON.parse(readFileSync(descriptorJsonPath, 'utf8'));
const types = new ProtoTypes(real);
const routes = routesOf(real);
const route = (method, path) => {
  const r = routes.find((x) => x.method === method && x.regex.test(path));
  assert.ok(r, `a route for ${method} ${path}`);
  return { r, m: /** @type {RegExpExecArray} */ (r.regex.exec(path)) };
};
/** @param {string} method @param {string} path @param {string} [query] @param {unknown} [body] */
const build = (method, path, query = '', body = undefined) => {
  const { r, m } = route(method, path);
  return { rpc: r.rpc, request: requestOf(types, r, m, new URLSearchParams(query), body) };
};
/** @param {() => unknown} fn @param {string} field */
const fieldError = (fn, field) => assert.throws(fn, (err) => err instanceof FieldError && err.field === field);

// A descriptor set of its own, for the kinds of field the protos of pipewright have few of.
const own = new ProtoTypes({
  file: [
    {
      name: 't.proto',
      package: 't',
      enumType: [{ name: 'Colour', value: [{ name: 'COLOUR_UNSPECIFIED', number: 0 }, { name: 'COLOUR_RED', number: 1 }] }],
      messageType: [
        {
          name: 'Thing',
          field: [
            { name: 'big', number: 1, label: 'LABEL_OPTIONAL', type: 'TYPE_INT64', jsonName: 'big' },
            { name: 'raw', number: 2, label: 'LABEL_OPTIONAL', type: 'TYPE_BYTES', jsonName: 'raw' },
            { name: 'tags', number: 3, label: 'LABEL_REPEATED', type: 'TYPE_MESSAGE', typeName: '.t.Thing.TagsEntry', jsonName: 'tags' },
            { name: 'colour', number: 4, label: 'LABEL_OPTIONAL', type: 'TYPE_ENUM', typeName: '.t.Colour', jsonName: 'colour' },
            { name: 'text', number: 5, label: 'LABEL_OPTIONAL', type: 'TYPE_STRING', jsonName: 'text', oneofIndex: 0 },
            { name: 'count', number: 6, label: 'LABEL_OPTIONAL', type: 'TYPE_INT32', jsonName: 'count', oneofIndex: 0 },
            { name: 'ratio', number: 7, label: 'LABEL_OPTIONAL', type: 'TYPE_DOUBLE', jsonName: 'ratio' },
            { name: 'maybe', number: 8, label: 'LABEL_OPTIONAL', type: 'TYPE_MESSAGE', typeName: '.google.protobuf.Int32Value', jsonName: 'maybe' },
          ],
          nestedType: [
            {
              name: 'TagsEntry',
              options: { mapEntry: true },
              field: [
                { name: 'key', number: 1, label: 'LABEL_OPTIONAL', type: 'TYPE_STRING', jsonName: 'key' },
                { name: 'value', number: 2, label: 'LABEL_OPTIONAL', type: 'TYPE_INT64', jsonName: 'value' },
              ],
            },
          ],
        },
      ],
    },
  ],
});

test('path templates: variables bind one segment, a pattern or the rest; a verb follows the last segment', () => {
  const one = compileTemplate('/v1/jobs/{job_id}:cancel');
  assert.deepEqual(one.variables, ['job_id']);
  assert.deepEqual(one.regex.exec('/v1/jobs/abc:cancel')?.slice(1), ['abc']);
  assert.equal(one.regex.exec('/v1/jobs/abc'), null);
  assert.equal(one.regex.exec('/v1/jobs/a/b:cancel'), null);
  const pattern = compileTemplate('/v1/{name=shelves/*/books/*}');
  assert.deepEqual(pattern.regex.exec('/v1/shelves/s1/books/b2')?.slice(1), ['shelves/s1/books/b2']);
  assert.equal(pattern.regex.exec('/v1/shelves/s1'), null);
  const rest = compileTemplate('/v1/files/{path=**}');
  assert.deepEqual(rest.regex.exec('/v1/files/a/b/c.txt')?.slice(1), ['a/b/c.txt']);
  assert.deepEqual(compileTemplate('/v1/{a.b}/x').variables, ['a.b']);
});

test('the routes are read from the rules: every job operation, additional bindings included, the more literal first', () => {
  const byRpc = (rpc) => routes.filter((r) => r.rpc === rpc).map((r) => `${r.method} ${r.template}`);
  assert.deepEqual(byRpc('ScheduleJob'), ['POST /v1/jobs']);
  assert.deepEqual(byRpc('GetJob'), ['GET /v1/jobs/{job_id}']);
  assert.deepEqual(byRpc('CancelJob'), ['POST /v1/jobs/{job_id}:cancel']);
  assert.deepEqual(byRpc('ListRuns'), ['GET /v1/jobs/{job_id}/runs']);
  assert.deepEqual(byRpc('ListRatios').sort(), ['GET /v1/ratios', 'POST /v1/ratios:search']);
  assert.equal(route('GET', '/v1/jobs:count').r.rpc, 'CountJobs', 'not GetJob of a job called "jobs:count"');
  assert.ok(routes.find((r) => r.rpc === 'WatchPipeline')?.serverStreaming);
});

test('a GET takes the path variables and every other field from the query, typed by the field', () => {
  const { rpc, request } = build('GET', '/v1/jobs', 'app_name=sms&status=JOB_STATUS_DONE&pageSize=5&scheduled_from=2026-01-01T00:00:00Z');
  assert.equal(rpc, 'ListJobs');
  assert.deepEqual(request, { appName: 'sms', status: 4, scheduledFrom: new Date('2026-01-01T00:00:00Z'), scheduledTo: undefined, pageSize: 5, pageToken: '' });
  assert.deepEqual(build('GET', '/v1/jobs/a%20b%2Fc', 'partition=1&offset=12').request, { jobId: 'a b/c', partition: 1, offset: 12 });
  assert.deepEqual(build('GET', '/v1/orders/aggregates:watch', 'products=a&products=b').request, { products: ['a', 'b'] });
  assert.equal(build('GET', '/v1/stock-runs', 'running_only=true').request.runningOnly, true);
  fieldError(() => build('GET', '/v1/jobs', 'page_size=ten'), 'page_size');
  fieldError(() => build('GET', '/v1/jobs', 'page_size=1&page_size=2'), 'page_size');
  fieldError(() => build('GET', '/v1/jobs', 'status=LOST'), 'status');
  fieldError(() => build('GET', '/v1/jobs', 'colour=red'), 'colour');
  fieldError(() => build('GET', '/v1/stock-runs', 'running_only=maybe'), 'running_only');
  fieldError(() => build('GET', '/v1/jobs/x', 'job_id=y'), 'job_id');
  fieldError(() => build('GET', '/v1/ratios', 'filters=pe'), 'filters');
});

test('body "*" is the whole request, checked field by field; query parameters are refused beside it', () => {
  const { request } = build('POST', '/v1/jobs', '', { app_name: 'sms', jobData: { to: '+1' }, schedule: { everyMs: '5000' }, maxRetries: 2, priority: 'PRIORITY_HIGH' });
  assert.equal(request.appName, 'sms');
  assert.deepEqual(request.jobData, { to: '+1' });
  assert.deepEqual(request.schedule, { cron: '', timezone: '', everyMs: 5000 });
  assert.equal(request.maxRetries, 2);
  assert.equal(request.priority, 1);
  assert.equal(request.backoff, undefined);
  assert.deepEqual(build('POST', '/v1/jobs/j1:cancel').request, { jobId: 'j1' }, 'an empty body is an empty message');
  fieldError(() => build('POST', '/v1/jobs', '', { appName: 5 }), 'app_name');
  fieldError(() => build('POST', '/v1/jobs', '', { jobData: [1] }), 'job_data');
  fieldError(() => build('POST', '/v1/jobs:batch', '', { jobs: [{}, { maxRetries: 1.5 }] }), 'jobs[1].max_retries');
  fieldError(() => build('POST', '/v1/jobs', '', []), '(body)');
  fieldError(() => build('POST', '/v1/jobs', 'app_name=sms', {}), 'app_name');
  fieldError(() => build('POST', '/v1/orders', '', { orders: [{ createdAt: 'yesterday' }] }), 'orders[0].created_at');
});

test('the JSON mapping: int64 as text, bytes as base64, maps, oneofs, enums, wrappers and non-finite doubles, both ways', () => {
  const obj = own.fromJson('.t.Thing', { big: '9007199254740991', raw: 'AAEC', tags: { a: '1', b: 2 }, colour: 'COLOUR_RED', count: 3, ratio: 'NaN', maybe: 7 });
  assert.deepEqual({ ...obj, raw: [.../** @type {Buffer} */ (obj.raw)], ratio: String(obj.ratio) }, { big: 9007199254740991, raw: [0, 1, 2], tags: { a: 1, b: 2 }, colour: 1, text: undefined, count: 3, ratio: 'NaN', maybe: 7 });
  assert.deepEqual(own.toJson('.t.Thing', obj), { big: '9007199254740991', raw: 'AAEC', tags: { a: '1', b: '2' }, colour: 'COLOUR_RED', count: 3, ratio: 'NaN', maybe: 7 });
  assert.deepEqual(own.toJson('.t.Thing', own.empty('.t.Thing')), { big: '0', raw: '', tags: {}, colour: 'COLOUR_UNSPECIFIED', ratio: 0 }, 'defaults written; unset oneof members and messages left out');
  assert.throws(() => own.fromJson('.t.Thing', { big: '9007199254740993' }), /big: must be from/);
  assert.throws(() => own.fromJson('.t.Thing', { raw: 'not base64!' }), /raw: must be base64 text/);
  assert.throws(() => own.fromJson('.t.Thing', { tags: { a: 'x' } }), /tags\["a"\]: must be an integer/);
  assert.throws(() => own.fromJson('.t.Thing', { colour: 'BLUE' }), /colour: must be one of COLOUR_UNSPECIFIED, COLOUR_RED/);
  const job = types.toJson('.pipewright.scheduler.v1.Job', { ...types.empty('.pipewright.scheduler.v1.Job'), jobId: 'j', status: 4, createdAt: new Date(0), attempts: 2 });
  assert.equal(job.status, 'JOB_STATUS_DONE');
  assert.equal(job.createdAt, '1970-01-01T00:00:00.000Z');
  assert.equal(job.attempts, 2);
  assert.equal('firedAt' in job, false);
});

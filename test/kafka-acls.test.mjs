// The Kafka ACLs come from the one table of who reads and writes what (services.json): the table
// names every consumer group and handler topic the code uses, and what it grants is exactly that.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { SERVICE_LIST } from '../scripts/lib/services.mjs';
import { docsBlock, kafkaAcls, readApps } from '../scripts/lib/kafka-acls.mjs';
import { withBlock } from '../scripts/gen-charts.mjs';
import { ROOT } from '@pipewright/testkit';

const require = createRequire(import.meta.url);
const { TOPICS } = require('@pipewright/contracts');

/** The .ts files under a directory. */
const sources = (dir) =>
  readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => readFileSync(join(e.parentPath, e.name), 'utf8'));

test('services.json names every consumer group each service joins', () => {
  for (const s of SERVICE_LIST) {
    const text = sources(join(ROOT, 'services', s.name, 'src')).join('\n');
    const inCode = [...text.matchAll(/(?:groupId: |_GROUP = )'([^']+)'/g)].map((m) => m[1]);
    assert.deepEqual([...new Set(inCode)].sort(), [...s.groups].sort(), `${s.name}: groups in services.json`);
  }
});

test("services.json names the topics the executor's handlers write", () => {
  const executor = SERVICE_LIST.find((s) => s.name === 'executor');
  const { FOOTBALL_TOPICS } = require(join(ROOT, 'services/executor/dist/handlers/football/routing.js'));
  assert.deepEqual(executor.handlerTopics['demo.football'], Object.values(FOOTBALL_TOPICS));
  assert.deepEqual(executor.handlerTopics['stock.run'], [TOPICS.stockRuns, TOPICS.stockScrapingTasks]);
});

test('each principal reads what its service consumes, writes what it produces, and nothing of the others', () => {
  const table = kafkaAcls({ userPrefix: 'pw-' });
  const may = (service, op, topic) =>
    table
      .find((t) => t.service === service)
      ?.acls.some((a) => a.resource === 'topic' && a.operations.includes(op) && (a.pattern === 'prefixed' ? topic.startsWith(a.name) : a.name === topic || a.name === '*'));
  assert.equal(table.find((t) => t.service === 'executor')?.principal, 'User:pw-executor');
  for (const s of SERVICE_LIST) {
    for (const t of s.consumes) assert.ok(may(s.name, 'Read', t), `${s.name} reads ${t}`);
    for (const t of s.produces) assert.ok(may(s.name, 'Write', t), `${s.name} writes ${t}`);
  }
  assert.ok(!may('executor', 'Write', TOPICS.jobsDue), 'the executor may not write jobs.due');
  assert.ok(!may('executor', 'Read', TOPICS.jobsIngest), 'the executor may not read scheduler.jobs.ingest');
  assert.ok(!may('ingest-gateway', 'Write', TOPICS.jobsDue), 'the gateway may not write jobs.due');
  assert.ok(!may('order-aggregator', 'Read', TOPICS.jobsStatus), 'the aggregator may not read jobs.status');
  // Only the scheduler and the monitor (re-sending dead letters) write jobs.due.
  assert.deepEqual(
    SERVICE_LIST.map((s) => s.name).filter((s) => may(s, 'Write', TOPICS.jobsDue)),
    ['scheduler', 'monitor'],
  );
});

test('each kafka.publish app gets its own topic, or its own prefix when it has none', () => {
  const apps = { ...readApps(), reports: { handler: 'kafka.publish', options: {} }, audit: { handler: 'kafka.publish', options: { topic: 'audit.events' } }, quiet: { handler: 'noop', options: {} } };
  const executor = kafkaAcls({ apps }).find((t) => t.service === 'executor');
  const writes = executor?.acls.filter((a) => a.operations.includes('Write')).map((a) => `${a.pattern}:${a.name}`) ?? [];
  for (const w of ['literal:sms.jobs', 'literal:audit.events', 'prefixed:reports.', 'prefixed:publish.']) assert.ok(writes.includes(w), `${w} in ${writes.join(', ')}`);
  assert.ok(!writes.some((w) => w.includes('quiet')), 'an app of another handler gets nothing');
});

test("a kafka.publish app whose topic, or whose prefix, would take in pipewright's own topics is refused, naming the app and the topic", () => {
  /** @type {Array<[string, { handler: string, options: Record<string, string> }, RegExp]>} */
  const refused = [
    ['jobs', { handler: 'kafka.publish', options: {} }, /would include jobs\.(due|status|dlq)\b/],
    ['scheduler', { handler: 'kafka.publish', options: {} }, /would include scheduler\.jobs\.(ingest|dlq)\b/],
    ['sneaky', { handler: 'kafka.publish', options: { topic: 'jobs.status' } }, /would include jobs\.status\b/],
  ];
  for (const [name, app, topic] of refused) {
    assert.throws(
      () => kafkaAcls({ apps: { [name]: app } }),
      (err) => err instanceof Error && err.message.startsWith(`app "${name}"`) && topic.test(err.message),
      `${name} refused`,
    );
  }
  assert.doesNotThrow(() => kafkaAcls({ apps: { jobsreport: { handler: 'kafka.publish', options: {} } } }), 'a prefix that only starts alike is fine');
});

test('scripts/kafka-acls.mjs prints kafka-acls commands covering every ACL of the table, for the users it is told', () => {
  const out = execFileSync(process.execPath, [join(ROOT, 'scripts/kafka-acls.mjs'), '--user-prefix', 'prod-'], { encoding: 'utf8' });
  const commands = out.split('\n').filter((l) => l.startsWith('kafka-acls.sh '));
  const granted = new Set();
  for (const c of commands) {
    const principal = /--allow-principal (\S+)/.exec(c)?.[1];
    const ops = [...c.matchAll(/--operation (\S+)/g)].map((m) => m[1]);
    const pattern = c.includes('--resource-pattern-type prefixed') ? 'prefixed' : 'literal';
    for (const [, kind, name] of c.matchAll(/--(topic|group) ('[^']*'|\S+)/g)) for (const op of ops) granted.add(`${principal} ${kind} ${pattern} ${name.replaceAll("'", '')} ${op}`);
  }
  const expected = new Set(kafkaAcls({ userPrefix: 'prod-' }).flatMap((t) => t.acls.flatMap((a) => a.operations.map((op) => `${t.principal} ${a.resource} ${a.pattern} ${a.name} ${op}`))));
  assert.deepEqual([...granted].sort(), [...expected].sort());
});

test('the ACL table in docs/security.md is the one derived (node scripts/kafka-acls.mjs --write-docs)', () => {
  const block = docsBlock();
  const text = readFileSync(block.file, 'utf8');
  assert.equal(text, withBlock(text, block), 'docs/security.md is stale: run node scripts/kafka-acls.mjs --write-docs');
  assert.ok(block.lines.length === SERVICE_LIST.length + 2, 'a row per service');
});

// The pipewright command-line tool (packages/cli) as a child process against a real stack: every
// command's output (--json parsed, and the tables), and its exit codes: 2 for a bad argument, 3
// for an unknown job or dead letter, 4 for a move the job's status forbids (said in words), 5
// with one line when nothing answers at the address. Dead letters shown and replayed, with the
// question asked first on a terminal. (The watches and stock runs: cli-live.test.mjs.)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { TOPICS } from '@pipewright/contracts';
import { startOrderStack, eventually, freePort } from '@pipewright/testkit';
import { addressFlags as flagsOf, cliEnv, inWords, openTerminal, plain, runCli } from './cli-kit.mjs';

const RUNNING = ['ingest-gateway', 'scheduler', 'executor', 'order-aggregator', 'monitor', 'stock-processor'];

/** @type {import('@pipewright/testkit').OrderStack} */
let started;
/** @type {string[]} */
let addressFlags;
/** A port nothing listens on. */
let closedPort;
/** Environment of the CLI: no PIPEWRIGHT_* of the caller's, and a home without a local run. */
let env;

before(async () => {
  started = await startOrderStack({ services: RUNNING });
  closedPort = await freePort();
  addressFlags = [...flagsOf(started.stack, RUNNING), '--stock-scraper', `127.0.0.1:${closedPort}`];
  env = cliEnv();
});

after(async () => started?.stop());

/**
 * Runs `pipewright <args>` with the stack's addresses (unless `flags` is false); resolves to its
 * exit code and output.
 * @param {string[]} args
 * @returns {Promise<{ code: number | null, stdout: string, stderr: string }>}
 */
const cli = (args, { flags = true } = {}) => runCli([...args, ...(flags ? addressFlags : [])], env);

/** `pipewright <args> --json`, expected to succeed; resolves to the parsed output. */
async function json(args) {
  const r = await cli([...args, '--json']);
  assert.equal(r.code, 0, `pipewright ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Schedules a job through the CLI; resolves to its request id once the scheduler has stored it. */
async function schedule(args) {
  const { requestId } = await json(['jobs', 'schedule', ...args]);
  assert.ok(requestId);
  await eventually(async () => (await cli(['jobs', 'get', requestId])).code === 0, { timeoutMs: 30_000, message: `job ${requestId} stored` });
  return requestId;
}

test('status: every service with its health and address; exit 5 when one cannot be reached', async () => {
  const all = await cli(['status', '--json']);
  assert.equal(all.code, 5, 'the stock-scraper is not running');
  const { services } = JSON.parse(all.stdout);
  assert.deepEqual(
    services.map((s) => s.service),
    ['ingest-gateway', 'scheduler', 'executor', 'order-aggregator', 'stock-scraper', 'stock-processor', 'monitor'],
  );
  for (const s of services) {
    assert.equal(s.status, s.service === 'stock-scraper' ? 'UNREACHABLE' : 'SERVING', s.service);
    assert.equal(s.from, `--${s.service}`);
  }
  assert.equal(services.find((s) => s.service === 'scheduler').address, started.stack.address('scheduler'));

  const some = await cli(['status', 'scheduler', 'monitor']);
  assert.equal(some.code, 0, some.stderr);
  assert.match(some.stdout, /^SERVICE\s+STATUS\s+ADDRESS\s+FROM$/m);
  assert.match(some.stdout, /^scheduler\s+SERVING\s+\S+\s+--scheduler$/m);

  // From the environment when no flag says.
  const fromEnv = await runCli(['status', 'scheduler', '--json'], { ...env, PIPEWRIGHT_SCHEDULER: started.stack.address('scheduler') });
  assert.equal(fromEnv.code, 0);
  assert.deepEqual(
    JSON.parse(fromEnv.stdout).services.map((s) => [s.status, s.from]),
    [['SERVING', 'PIPEWRIGHT_SCHEDULER']],
  );
});

test('jobs: schedule, get, list and runs of a job that runs to DONE; cancelling it then is refused with exit 4', async () => {
  const app = 'noop';
  const id = await schedule(['--app', app, '--data', '{"n": 1}']);
  const done = await eventually(
    async () => {
      const job = await json(['jobs', 'get', id]);
      return job.status === 'JOB_STATUS_DONE' && job;
    },
    { timeoutMs: 60_000, message: `job ${id} DONE` },
  );
  assert.equal(done.requestId, id);
  assert.equal(done.appName, app);
  assert.deepEqual(done.jobData, { n: 1 });

  const human = await cli(['jobs', 'get', id]);
  assert.equal(human.code, 0);
  assert.match(human.stdout, /^status:\s+DONE$/m);
  assert.match(human.stdout, new RegExp(`^request id:\\s+${id}$`, 'm'));

  const list = await json(['jobs', 'list', '--app', app, '--status', 'done', '--limit', '500']);
  assert.ok(list.jobs.some((j) => j.jobId === done.jobId));
  assert.ok(list.jobs.every((j) => j.status === 'JOB_STATUS_DONE' && j.appName === app));
  const table = await cli(['jobs', 'list', '--app', app, '--limit', '500']);
  assert.match(table.stdout, /^JOB ID\s+APP\s+STATUS/);
  assert.match(table.stdout, new RegExp(`^${done.jobId}\\s+noop\\s+DONE`, 'm'));

  const { runs } = await json(['jobs', 'runs', done.jobId]);
  assert.equal(runs.length, 1);
  assert.equal(runs[0].status, 'JOB_STATUS_DONE');

  const cancel = await cli(['jobs', 'cancel', id]);
  assert.equal(cancel.code, 4);
  assert.equal(cancel.stdout, '');
  inWords(cancel.stderr, new RegExp(`^pipewright: job ${id}: cannot cancel .*DONE`));
});

test('jobs: pause, resume, trigger and cancel a recurring job; a second cancel is refused with exit 4', async () => {
  const id = await schedule(['--app', 'noop', '--cron', '0 0 1 1 *', '--timezone', 'Europe/Paris']);
  assert.equal((await json(['jobs', 'get', id])).schedule, 'cron 0 0 1 1 * Europe/Paris');

  const paused = await cli(['jobs', 'pause', id]);
  assert.equal(paused.code, 0, paused.stderr);
  assert.match(paused.stdout, /: PAUSED$/m);
  assert.equal((await json(['jobs', 'resume', id])).status, 'JOB_STATUS_SCHEDULED');
  assert.ok((await json(['jobs', 'trigger', id])).jobId);
  await eventually(async () => (await json(['jobs', 'runs', id])).runs.some((r) => r.status === 'JOB_STATUS_DONE'), { timeoutMs: 60_000, message: `a run of ${id} DONE` });
  assert.equal((await json(['jobs', 'cancel', id])).status, 'JOB_STATUS_CANCELLED');

  const again = await cli(['jobs', 'cancel', id]);
  assert.equal(again.code, 4);
  inWords(again.stderr, /cannot cancel a job whose status is CANCELLED/);
  const resume = await cli(['jobs', 'resume', id]);
  assert.equal(resume.code, 4);
  inWords(resume.stderr, /cannot resume/);
});

test('jobs: an unknown id is exit 3; bad arguments, caught here or by the service, are exit 2', async () => {
  const unknown = await cli(['jobs', 'get', randomUUID()]);
  assert.equal(unknown.code, 3);
  inWords(unknown.stderr, /^pipewright: not found: /);
  assert.equal((await cli(['jobs', 'runs', randomUUID()])).code, 3);

  const cases = [
    ['jobs', 'list', '--status', 'sleeping'],
    ['jobs', 'schedule', '--app', 'noop', '--data', '{"n":'],
    ['jobs', 'schedule', '--app', 'noop', '--data', '[1]'],
    ['jobs', 'schedule'],
    ['jobs', 'frobnicate'],
    ['jobs', 'list', '--limit', 'many'],
    ['jobs', 'get', 'x', '--partition', '1'],
    ['jobs', 'get', 'x', '--offset', 'last'],
    ['orders', 'submit', '--product', 'p', '--price', 'cheap'],
    ['ratios', 'list', '--filter', 'pe~15'],
    ['ratios', 'list', '--sort', 'colour'],
    ['status', 'nosuchservice'],
  ];
  for (const args of cases) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  }
  // Refused by the gateway (INVALID_ARGUMENT): the field named.
  const late = await cli(['jobs', 'schedule', '--app', 'noop', '--at', 'next tuesday']);
  assert.equal(late.code, 2);
  inWords(late.stderr, /^pipewright: invalid argument: .*scheduled_time/);
  const size = await cli(['orders', 'windows', 'apple', '--size', '7q']);
  assert.equal(size.code, 2);
  inWords(size.stderr, /^pipewright: invalid argument: /);
});

test('jobs get with the position jobs schedule printed: NEW while no scheduler reads the intake, then the stored job; REFUSED with the reason for a request it turned down', async () => {
  const { stack } = started;
  const port = stack.proc('scheduler').port;
  // The scheduler that reads the intake stops; one that only answers (SCHEDULER_INGEST off) takes its place.
  await stack.proc('scheduler').stop();
  const answering = await stack.start('scheduler', { as: 'scheduler-answering', env: { SCHEDULER_INGEST: 'false' } });
  const withAnswering = addressFlags.map((f, i) => (addressFlags[i - 1] === '--scheduler' ? answering.address : f));
  const get = (args) => runCli(['jobs', 'get', ...args, ...withAnswering], env);
  let reading = false;
  try {
    const scheduled = await cli(['jobs', 'schedule', '--app', 'noop']);
    assert.equal(scheduled.code, 0, scheduled.stderr);
    const m = /^(\S+)\n\(accepted: scheduler\.jobs\.ingest partition (\d+) offset (\d+); pipewright jobs get \1 --partition \2 --offset \3\)$/.exec(scheduled.stdout.trim());
    assert.ok(m, `jobs schedule prints the request id and where it was accepted: ${scheduled.stdout}`);
    const [, requestId, partition, offset] = m;
    const at = ['--partition', partition, '--offset', offset];

    const waiting = await get([requestId, ...at]);
    assert.equal(waiting.code, 0, waiting.stderr);
    assert.match(waiting.stdout, /^status:\s+NEW$/m);
    assert.match(waiting.stdout, new RegExp(`^request id:\\s+${requestId}$`, 'm'));
    assert.equal((await get([requestId])).code, 3, 'without the position the scheduler cannot tell');

    // A request the scheduler will turn down: an app it does not know.
    const producer = stack.kafka.producer();
    await producer.connect();
    const poisonId = randomUUID();
    const [sent] = await producer.send({ topic: TOPICS.jobsIngest, messages: [{ key: poisonId, value: JSON.stringify({ requestId: poisonId, appName: 'no-such-app' }) }] });
    await producer.disconnect();
    const poisonAt = ['--partition', String(sent.partition), '--offset', String(sent.baseOffset)];

    // The intake again: the job is stored, the poison refused.
    await stack.start('scheduler', { port });
    reading = true;
    const stored = await eventually(
      async () => {
        const job = JSON.parse((await get([requestId, ...at, '--json'])).stdout);
        return job.status !== 'JOB_STATUS_NEW' && job;
      },
      { timeoutMs: 60_000, message: `job ${requestId} stored` },
    );
    assert.match(stored.jobId, /^[0-9a-f-]{36}$/);
    const refused = await eventually(
      async () => {
        const r = await get([poisonId, ...poisonAt]);
        return /^status:\s+REFUSED$/m.test(r.stdout) && r;
      },
      { timeoutMs: 60_000, message: `request ${poisonId} refused` },
    );
    assert.match(refused.stdout, /^last error:\s+refused: invalid job request: .*no-such-app/m);
  } finally {
    await answering.stop();
    if (!reading) await stack.start('scheduler', { port });
  }
});

test('nothing listening: exit 5 with one line naming npm start and the flag', async () => {
  const r = await cli(['jobs', 'get', 'x', '--scheduler', `127.0.0.1:${closedPort}`], { flags: false });
  assert.equal(r.code, 5);
  inWords(r.stderr, new RegExp(`^pipewright: cannot reach the scheduler at 127\\.0\\.0\\.1:${closedPort} \\(--scheduler\\): start the local run with \`npm start\`, or pass --scheduler host:port$`));
  const lag = await cli(['lag', '--monitor', `127.0.0.1:${closedPort}`], { flags: false });
  assert.equal(lag.code, 5);
  inWords(lag.stderr, /--monitor host:port$/);
});

test('orders: submit, then the aggregate, the list of aggregates and the windows', async () => {
  const product = `cli-${randomUUID().slice(0, 8)}`;
  const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 5_000);
  const submitted = await json(['orders', 'submit', '--product', product, '--price', '2.5', '--quantity', '2', '--at', at.toISOString()]);
  assert.equal(submitted.accepted, 1);
  await json(['orders', 'submit', '--product', product, '--price', '1.25', '--at', at.toISOString()]);

  const aggregate = await eventually(
    async () => {
      const r = await cli(['orders', 'aggregate', product, '--json']);
      const a = r.code === 0 && JSON.parse(r.stdout);
      return a && Number(a.count) === 2 && a;
    },
    { timeoutMs: 30_000, message: `aggregate of ${product}` },
  );
  assert.equal(aggregate.total, '6.25');
  assert.equal(aggregate.min, '1.25');

  const human = await cli(['orders', 'aggregate', product]);
  assert.match(human.stdout, new RegExp(`^${product}\\s+6\\.25\\s+2\\s`, 'm'));
  const { aggregates } = await json(['orders', 'aggregate', '--sort', 'total', '--limit', '1000']);
  assert.ok(aggregates.some((a) => a.product === product));
  const overall = await json(['orders', 'aggregate', '--all']);
  assert.equal(overall.product, undefined, 'the overall aggregate has no product (proto3 JSON leaves out fields at their default)');
  assert.ok(Number(overall.count) >= 2);

  const { windows } = await json(['orders', 'windows', product, '--size', '1m', '--from', new Date(at.getTime() - 3_600_000).toISOString()]);
  assert.equal(windows.length, 1);
  assert.equal(windows[0].total, '6.25');
  assert.equal(new Date(windows[0].startTime).getTime(), at.getTime() - 5_000);
});

/**
 * Sends bytes that are no order to `orders`; resolves once the aggregator has dead-lettered them
 * and the monitor lists them: their key, the dead letter (proto3 JSON), and its id as the CLI names it.
 */
async function poison(value = 'not an order') {
  const key = `cli-poison-${randomUUID()}`;
  await started.producer.send({ topic: TOPICS.orders, messages: [{ key, value: Buffer.from(value) }] });
  const letter = await eventually(async () => (await json(['dlq', 'list', TOPICS.ordersDlq, '--original-topic', TOPICS.orders, '--limit', '500'])).deadLetters.find((d) => d.keyText === key), {
    timeoutMs: 60_000,
    message: `the dead letter ${key} listed`,
  });
  return { key, letter, id: idOf(letter) };
}

/** A dead letter's id (proto3 JSON leaves out a partition or offset of 0). */
const idOf = (d) => `${d.dlqTopic}:${d.partition ?? 0}:${d.offset ?? 0}`;

test('lag and dlq list: consumer groups, one group per partition, and a dead letter from orders-dlq', async () => {
  const { groups } = await eventually(
    async () => {
      const r = await json(['lag']);
      return r.groups.some((g) => g.groupId === 'order-aggregator') && r;
    },
    { timeoutMs: 60_000, message: 'the order-aggregator group listed' },
  );
  assert.ok(groups.length > 1);
  const one = await json(['lag', 'order-aggregator']);
  assert.equal(one.groupId, 'order-aggregator');
  assert.ok(one.partitions.every((p) => p.topic === TOPICS.orders));
  const human = await cli(['lag', 'order-aggregator']);
  assert.match(human.stdout, /^order-aggregator: /);
  assert.match(human.stdout, /^TOPIC\s+PARTITION\s+LAG/m);
  assert.equal((await cli(['lag', `no-such-group-${randomUUID()}`])).code, 3);

  const { key, letter } = await poison();
  assert.equal(letter.dlqTopic, TOPICS.ordersDlq);
  assert.ok(letter.errorMessage);
  const table = await cli(['dlq', 'list', TOPICS.ordersDlq, '--limit', '500']);
  assert.match(table.stdout, /^ID\s+DEAD-LETTERED\s+FROM\s+KEY/);
  assert.match(table.stdout, new RegExp(`^${idOf(letter)}\\s.*${key}`, 'm'));
  assert.match(table.stdout, new RegExp(`${key}`));
});

test('dlq show: a dead letter with its headers and its payload decoded (text, or JSON)', async () => {
  const { key, id } = await poison();
  const shown = await json(['dlq', 'show', id]);
  assert.equal(shown.keyText, key);
  assert.equal(shown.originalTopic, TOPICS.orders);
  assert.equal(Buffer.from(shown.raw, 'base64').toString(), 'not an order');
  const headers = Object.fromEntries(shown.headers.map((h) => [h.name, h.value]));
  assert.equal(headers['original-topic'], TOPICS.orders);
  assert.ok(headers['error-message']);

  const human = await cli(['dlq', 'show', id]);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, new RegExp(`^id:\\s+${id}$`, 'm'));
  assert.match(human.stdout, new RegExp(`^key:\\s+${key}$`, 'm'));
  assert.match(human.stdout, /^replayed:\s+never$/m);
  assert.match(human.stdout, /^\s+original-topic\s+orders$/m);
  assert.match(human.stdout, /^payload: text \(not JSON\):\n\s+not an order$/m);

  const jsonPoison = await poison('{"product": "x", "price": "free"}');
  const decoded = await cli(['dlq', 'show', jsonPoison.id]);
  assert.match(decoded.stdout, /^payload: json, decoded:\n\s+\{\n\s+"product": "x",\n\s+"price": "free"\n\s+\}$/m);
});

test('dlq show and replay: an unknown dead letter is exit 3, a bad one exit 2, no monitor exit 5', async () => {
  const unknown = await cli(['dlq', 'show', `${TOPICS.ordersDlq}:0:999999999`]);
  assert.equal(unknown.code, 3);
  inWords(unknown.stderr, new RegExp(`^pipewright: no dead letter ${TOPICS.ordersDlq}:0:999999999: `));
  const replayUnknown = await cli(['dlq', 'replay', `${TOPICS.ordersDlq}:0:999999999`, '--yes']);
  assert.equal(replayUnknown.code, 3);
  assert.match(replayUnknown.stdout, /:0:999999999: not sent, the monitor holds no dead letter there$/m);
  inWords(replayUnknown.stderr, /^pipewright: no dead letter /);

  const badTopic = await cli(['dlq', 'show', 'no-such-dlq:0:1']);
  assert.equal(badTopic.code, 2);
  inWords(badTopic.stderr, /^pipewright: invalid argument: .*dlq_topic/);
  for (const args of [
    ['dlq', 'show', '42'],
    ['dlq', 'replay', TOPICS.ordersDlq, `${TOPICS.ordersDlq}:0:1`],
    ['dlq', 'replay', `${TOPICS.ordersDlq}:0:1`, '--error', 'x'],
    ['dlq', 'replay', `${TOPICS.ordersDlq}:0:1`, `${TOPICS.jobsDlq}:0:1`],
    ['dlq', 'replay', TOPICS.ordersDlq, '--max', 'all'],
  ]) {
    const r = await cli(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /^\s+at /m);
  }
  const away = await cli(['dlq', 'show', `${TOPICS.ordersDlq}:0:1`, '--monitor', `127.0.0.1:${closedPort}`], { flags: false });
  assert.equal(away.code, 5);
  inWords(away.stderr, /cannot reach the monitor .*--monitor host:port$/);
});

test('dlq replay: asks first on a terminal (no or Ctrl-C sends nothing, yes sends it), says what each dead letter became, and sends none twice without --force', async () => {
  const from = new Date();
  const { key, id } = await poison();

  /** Replays `id` in a terminal, typing `keys` at the question; resolves to the exit code and the screen. */
  const replayAnswering = async (keys) => {
    const term = openTerminal(['dlq', 'replay', id, ...addressFlags], env);
    await term.waitFor(/\[y\/N\] $/);
    term.type(keys);
    return { code: await term.exited, screen: plain(term.screen) };
  };
  const declined = await replayAnswering('n\r');
  assert.equal(declined.code, 0, declined.screen);
  assert.match(declined.screen, new RegExp(`Replay 1 dead letter of ${TOPICS.ordersDlq} \\(\\d+:\\d+\\) to the topic each came from\\? \\[y/N\\] n\\n`));
  assert.match(declined.screen, /^pipewright: nothing replayed$/m);
  assert.equal((await json(['dlq', 'show', id])).replay, undefined, 'not replayed');

  const interrupted = await replayAnswering('\x03');
  assert.equal(interrupted.code, 0, interrupted.screen);
  assert.match(interrupted.screen, /^pipewright: nothing replayed$/m, 'Ctrl-C at the question answers no');
  assert.equal((await json(['dlq', 'show', id])).replay, undefined, 'not replayed');

  const accepted = await replayAnswering('y\r');
  assert.equal(accepted.code, 0, accepted.screen);
  assert.match(accepted.screen, new RegExp(`^${id}: sent to ${TOPICS.orders}\\[\\d+\\]@\\d+$`, 'm'));
  assert.match(accepted.screen, /^replayed 1, skipped 0, failed 0$/m);
  assert.equal((await json(['dlq', 'show', id])).replay.state, 'sent');

  // Not a terminal: no question. Replayed before: skipped, and said so.
  const again = await cli(['dlq', 'replay', id]);
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.stdout, new RegExp(`^${id}: not sent, it was replayed before \\(sent to ${TOPICS.orders}.*\\); --force sends it again$`, 'm'));
  assert.match(again.stdout, /^replayed 0, skipped 1, failed 0$/m);

  // Sent back to orders, the same bytes are dead-lettered again: a filtered replay sends that one
  // and skips the first.
  const copy = await eventually(
    async () => (await json(['dlq', 'list', TOPICS.ordersDlq, '--from', from.toISOString(), '--limit', '500'])).deadLetters.find((d) => d.keyText === key && idOf(d) !== id),
    { timeoutMs: 60_000, message: `${key} dead-lettered again` },
  );
  const filtered = await json(['dlq', 'replay', TOPICS.ordersDlq, '--original-topic', TOPICS.orders, '--from', from.toISOString(), '--yes']);
  const outcome = (d) => filtered.results.find((r) => (r.partition ?? 0) === (d.partition ?? 0) && (r.offset ?? 0) === (d.offset ?? 0))?.outcome;
  assert.equal(outcome(copy), 'REPLAY_OUTCOME_SENT');
  assert.equal(outcome({ partition: Number(id.split(':')[1]), offset: Number(id.split(':')[2]) }), 'REPLAY_OUTCOME_ALREADY_REPLAYED');
  assert.ok(filtered.replayed >= 1);
});

test('ratios list: the screener with a filter and a sort', async () => {
  const r = await json(['ratios', 'list', '--filter', 'pe<15', '--filter', 'roe>=0', '--sort', 'roe', '--desc']);
  // No run has stored ratios in this stack: the list is empty (and, in proto3 JSON, left out).
  assert.deepEqual(r.ratios ?? [], []);
  for (const x of r.ratios ?? []) assert.ok(x.peRatio <= 15 && x.roe >= 0);
  const human = await cli(['ratios', 'list', '--sort', 'pe']);
  assert.equal(human.code, 0, human.stderr);
  assert.match(human.stdout, /^SYMBOL\s+REGION\s+SECTOR\s+PRICE\s+P\/E/);
});

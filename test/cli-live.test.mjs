// The pipewright CLI's live commands against a real stack: `stock run --watch` in a terminal (a
// progress bar per stage, redrawn until 100%, then the screener's rows) and through a pipe (a
// plain line per update; a JSON object per line with --json); `orders watch` in a terminal
// (the table redrawn, Ctrl-C ends it with exit 0) and through a pipe; `lag --watch`; and their
// error cases: a bad region (exit 2), an unknown run or group (exit 3), nothing listening (exit 5).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { startStack, eventually, freePort, groupsToEnd, ORDER_GROUP, STOCK_GROUPS } from '@pipewright/testkit';
import { addressFlags as flagsOf, cliEnv, inWords, openTerminal, plain, runCli, startCli } from './cli-kit.mjs';

const RUNNING = ['ingest-gateway', 'order-aggregator', 'stock-scraper', 'stock-processor', 'monitor'];

/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {string[]} */
let flags;
/** @type {Record<string, string | undefined>} */
let env;
/** A port nothing listens on. */
let closedPort;

before(async () => {
  stack = await startStack({ envFor: { 'stock-scraper': { STOCK_SYNTHETIC_LATENCY: '5ms', STOCK_PAGE_SIZE: '10' } } });
  // Earlier stacks of this run share the broker: these groups read only what is sent from now on.
  await groupsToEnd(stack.kafka, [...STOCK_GROUPS, ORDER_GROUP]);
  for (const s of RUNNING) await stack.start(s);
  flags = flagsOf(stack, RUNNING);
  env = cliEnv();
  closedPort = await freePort();
});

after(async () => stack?.stop());

const cli = (args) => runCli([...args, ...flags], env);

/** `pipewright <args> --json`, expected to succeed; resolves to the parsed output. */
async function json(args) {
  const r = await cli([...args, '--json']);
  assert.equal(r.code, 0, `pipewright ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** The screener's rows of a run as `ratios list` gives them: symbols, highest return on equity first. */
const topSymbols = async (runId, n) => ((await json(['ratios', 'list', '--run', runId, '--sort', 'roe', '--desc', '--limit', String(n)])).ratios ?? []).map((r) => r.symbol);

test('stock run --watch in a terminal: a progress bar per stage, redrawn until 100%, then the screener’s top rows', async () => {
  const term = openTerminal(['stock', 'run', '--regions', 'us,fr', '--limit', '30', '--watch', '--top', '5', ...flags], env);
  const code = await term.exited;
  const screen = plain(term.screen);
  assert.equal(code, 0, screen);
  // Drawn in place: the cursor is moved back over the bars between updates.
  assert.match(term.screen, /\x1b\[\d*A|\x1b\[\d*G/);
  const runId = /^run (\S+): 2 scraping tasks \(us, fr\)/m.exec(screen)?.[1];
  assert.ok(runId, screen);
  assert.match(screen, /scraping\s+█+ 100% \| 2\/2 regions, 0 failed, 0 pending/);
  const processed = /processing\s+█+ 100% \| (\d+)\/(\d+) symbols, \d+ failed, 0 pending/.exec(screen);
  assert.ok(processed, screen);
  assert.equal(processed[1], processed[2]);
  assert.equal(Number(processed[2]), 60, '30 symbols of each region');
  assert.match(screen, /run\s+█+ 100% \| complete/);

  const top = await topSymbols(runId, 5);
  assert.equal(top.length, 5);
  const table = screen.slice(screen.indexOf('top 5 by roe, largest first:'));
  assert.match(table, /^top 5 by roe, largest first:\nSYMBOL\s+REGION\s+SECTOR\s+PRICE\s+P\/E/);
  assert.deepEqual(
    table
      .split('\n')
      .slice(2, 7)
      .map((l) => l.split(/\s+/)[0]),
    top,
  );
});

test('stock run --watch through a pipe: a plain line per update up to 100%, the screener; with --json an object per line', async () => {
  const r = await cli(['stock', 'run', '--regions', 'uk', '--limit', '20', '--watch', '--top', '3']);
  assert.equal(r.code, 0, r.stderr);
  assert.doesNotMatch(r.stdout, /\x1b/, 'no escape sequences');
  const lines = r.stdout.split('\n');
  const runId = /^run (\S+): 1 scraping task \(uk\)/.exec(lines[0])?.[1];
  assert.ok(runId, r.stdout);
  const progress = lines.filter((l) => l.startsWith('scraping '));
  assert.ok(progress.length >= 1);
  const percents = progress.map((l) => Number(/ run ([\d.]+)%/.exec(l)?.[1]));
  assert.deepEqual(
    percents,
    [...percents].sort((a, b) => a - b),
    'the run’s percent never goes down',
  );
  assert.match(progress[progress.length - 1], /^scraping 100\.0% \(1\/1 region, 0 failed, 0 pending\)  processing 100\.0% \(20\/20 symbols, \d+ failed, 0 pending\)  run 100\.0% \(complete\)$/);
  assert.match(r.stdout, new RegExp(`^run ${runId} complete in [\\d.]+ s: `, 'm'));
  const top = await topSymbols(runId, 3);
  assert.match(r.stdout, new RegExp(`^top 3 by roe, largest first:\\nSYMBOL .*\\n${top.map((s) => `${s}\\s.*`).join('\\n')}$`, 'm'));

  const j = await cli(['stock', 'run', '--regions', 'de', '--limit', '10', '--watch', '--top', '4', '--json']);
  assert.equal(j.code, 0, j.stderr);
  const objects = j.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const [first, ...rest] = objects;
  const id = first.started.runId;
  assert.deepEqual(first.started.regions, ['de']);
  const screener = rest.pop();
  assert.ok(rest.length >= 1 && rest.every((o) => o.progress?.runId === id));
  const last = rest[rest.length - 1].progress;
  assert.equal(last.complete, true);
  assert.equal(last.percent, 100);
  assert.equal(screener.screener.ratios.length, 4);
  assert.ok(screener.screener.ratios.every((x) => x.runId === id));

  const status = await json(['stock', 'status', id]);
  assert.equal(status.complete, true);
  assert.equal(status.processing.completed + (status.processing.failed ?? 0), 10);
  const human = await cli(['stock', 'status', id]);
  assert.match(human.stdout, /^complete:\s+yes, in [\d.]+ s$/m);
  assert.match(human.stdout, /^de\s+COMPLETED\s+10\s/m);
});

test('stock: a bad region is exit 2 naming the field, an unknown run exit 3, nothing listening exit 5; Ctrl-C stops following with exit 0', async () => {
  const bad = await cli(['stock', 'run', '--regions', 'us,atlantis']);
  assert.equal(bad.code, 2);
  inWords(bad.stderr, /^pipewright: invalid argument: .*regions\[1\]/);
  assert.equal((await cli(['stock', 'run', '--limit', 'many'])).code, 2);
  assert.equal((await cli(['stock', 'run', '--sort', 'colour'])).code, 2);

  const unknown = await cli(['stock', 'status', `no-run-${randomUUID()}`]);
  assert.equal(unknown.code, 3);
  inWords(unknown.stderr, /^pipewright: not found: /);

  const away = await runCli(['stock', 'run', '--ingest-gateway', `127.0.0.1:${closedPort}`], env);
  assert.equal(away.code, 5);
  inWords(away.stderr, /cannot reach the ingest-gateway .*--ingest-gateway host:port$/);

  // A run the monitor has not seen is waited for; SIGINT (Ctrl-C) ends the wait, the run goes on.
  const waiting = startCli(['stock', 'status', `later-${randomUUID()}`, '--watch', ...flags], env);
  await new Promise((r) => setTimeout(r, 1500));
  const stopped = await waiting.stop();
  assert.equal(stopped.code, 0, stopped.stderr);
  inWords(stopped.stderr, /^pipewright: stopped following run later-\S+; it goes on \(pipewright stock status later-\S+ --watch\)$/);
});

test('orders watch in a terminal: the table redrawn as orders are counted; Ctrl-C ends it with exit 0', async () => {
  const product = `watch-${randomUUID().slice(0, 8)}`;
  const term = openTerminal(['orders', 'watch', product, ...flags], env);
  assert.equal((await cli(['orders', 'submit', '--product', product, '--price', '2.5', '--quantity', '2'])).code, 0);
  await term.waitFor(new RegExp(`^${product}\\s+5\\s+1\\s`, 'm'));
  assert.equal((await cli(['orders', 'submit', '--product', product, '--price', '2.5'])).code, 0);
  await term.waitFor(new RegExp(`^${product}\\s+7\\.5\\s+2\\s+3\\.75\\s`, 'm'));
  term.type('\x03');
  assert.equal(await term.exited, 0, plain(term.screen));
  assert.match(plain(term.screen), /^PRODUCT\s+TOTAL\s+COUNT\s+AVERAGE\s+MIN\s+MAX\s+QUANTITY\s+LAST ORDER$/m);
  // The second update redrew the table: the cursor went back up over it.
  assert.match(term.screen, /\x1b\[\d+A/);
});

test('orders watch through a pipe: a line per update, or with --json an object per line, until SIGINT (exit 0)', async () => {
  const product = `watch-${randomUUID().slice(0, 8)}`;
  const lines = startCli(['orders', 'watch', product, ...flags], env);
  const objects = startCli(['orders', 'watch', product, '--json', ...flags], env);
  await new Promise((r) => setTimeout(r, 1000));
  for (const price of ['1', '2', '3']) assert.equal((await cli(['orders', 'submit', '--product', product, '--price', price])).code, 0);
  await eventually(() => objects.lines.some((l) => JSON.parse(l).count === 3), { timeoutMs: 30_000, message: 'three orders counted' });
  await eventually(() => lines.lines.some((l) => l.includes(' count 3 ')), { timeoutMs: 30_000, message: 'the line of three orders' });

  const [a, b] = [await objects.stop(), await lines.stop()];
  assert.deepEqual([a.code, b.code], [0, 0], a.stderr + b.stderr);
  const updates = objects.lines.map((l) => JSON.parse(l));
  assert.ok(updates.every((u) => u.product === product));
  assert.deepEqual(updates[updates.length - 1], { ...updates[updates.length - 1], total: '6', count: 3, min: '1', max: '3', average: '2', quantity: 3 });
  assert.match(lines.lines[lines.lines.length - 1], new RegExp(`^\\S+Z  ${product}  total 6  count 3  average 2  min 1  max 3  quantity 3$`));
  assert.doesNotMatch(lines.lines.join('\n'), /\x1b/);

  const away = await runCli(['orders', 'watch', '--order-aggregator', `127.0.0.1:${closedPort}`], env);
  assert.equal(away.code, 5);
  inWords(away.stderr, /cannot reach the order-aggregator/);
});

test('lag --watch: a group’s lag as it changes, a JSON object per line, until SIGINT (exit 0); an unknown group is exit 3', async () => {
  const one = startCli(['lag', ORDER_GROUP.groupId, '--watch', '--json', ...flags], env);
  const all = startCli(['lag', '--watch', ...flags], env);
  const first = await eventually(() => one.lines.length > 0 && JSON.parse(one.lines[0]), { timeoutMs: 60_000, message: 'the order-aggregator group’s lag' });
  assert.equal(first.groupId, ORDER_GROUP.groupId);
  assert.ok(first.partitions.every((p) => p.topic === ORDER_GROUP.topic));
  await eventually(() => all.lines.some((l) => new RegExp(`^\\S+Z  ${ORDER_GROUP.groupId}  [A-Z]+  lag \\d+  max \\d+ \\([\\d.]+ s\\)  \\d+ partitions$`).test(l)), {
    timeoutMs: 60_000,
    message: 'the order-aggregator group in the list',
  });
  const [a, b] = [await one.stop(), await all.stop()];
  assert.deepEqual([a.code, b.code], [0, 0], a.stderr + b.stderr);
  assert.ok(one.lines.every((l) => JSON.parse(l).groupId === ORDER_GROUP.groupId));

  const unknown = await cli(['lag', `no-such-group-${randomUUID()}`, '--watch']);
  assert.equal(unknown.code, 3);
  inWords(unknown.stderr, /^pipewright: not found: /);
  const away = await runCli(['lag', '--watch', '--monitor', `127.0.0.1:${closedPort}`], env);
  assert.equal(away.code, 5);
});

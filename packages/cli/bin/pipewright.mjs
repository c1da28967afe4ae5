#!/usr/bin/env node
// pipewright: the command-line tool over the services' public gRPC APIs. Every command calls one
// service (the gateway, the scheduler, the order aggregator, the monitor, the stock processor);
// nothing reads a service's tables. See docs/cli.md.
//
// Addresses: --<service> host:port, else PIPEWRIGHT_<SERVICE> (PIPEWRIGHT_INGEST_GATEWAY, ...),
// else the local run's (.pipewright/processes.json, written by `npm start`), else 127.0.0.1 and
// the service's default port (packages/contracts/services.json).
//
// Exit codes: 0 ok, 1 anything else, 2 invalid argument, 3 not found, 4 failed precondition,
// 5 unreachable.
import { existsSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { randomUUID } from 'node:crypto';
import { Command, CommanderError, Option } from 'commander';
import { clients, healthCheck, grpc } from '../../../scripts/lib/clients.mjs';
import { SERVICE_LIST } from '../../../scripts/lib/services.mjs';
import proto from '@pipewright/proto';

const { ingestV1, schedulerV1, ordersV1, monitorV1, stockprocessorV1 } = proto;
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');

const EXIT = { ok: 0, other: 1, invalid: 2, notFound: 3, precondition: 4, unreachable: 5 };

/** An error the user can act on: its message is printed as it is, and the process exits with `code`. */
class CliError extends Error {
  constructor(message, code = EXIT.other) {
    super(message);
    this.code = code;
  }
}
const usage = (message) => new CliError(message, EXIT.invalid);
/** What the process exits with when the command succeeds (status sets it when a service is down). */
let exitCode = EXIT.ok;

// ---------------------------------------------------------------------------------------------
// Addresses

const envName = (service) => `PIPEWRIGHT_${service.toUpperCase().replace(/-/g, '_')}`;
const optionKey = (service) => service.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

/** The gRPC address of each service in the local run's processes.json (the first instance of each). */
function localRunAddresses() {
  const file = join(process.env.PIPEWRIGHT_HOME ?? join(ROOT, '.pipewright'), 'processes.json');
  const found = new Map();
  if (!existsSync(file)) return found;
  try {
    for (const p of JSON.parse(readFileSync(file, 'utf8'))) if (p.service && p.grpc && !found.has(p.service)) found.set(p.service, p.grpc);
  } catch {
    // A file being rewritten or not JSON: the defaults stand.
  }
  return found;
}

/** Where `service` is, and where that came from (flag, environment, local run, default). */
function addressOf(service, opts) {
  const flag = opts[optionKey(service)];
  if (flag) return { address: flag, from: `--${service}` };
  const env = process.env[envName(service)];
  if (env) return { address: env, from: envName(service) };
  const local = localRunAddresses().get(service);
  if (local) return { address: local, from: 'local run' };
  const info = SERVICE_LIST.find((s) => s.name === service);
  return { address: `127.0.0.1:${info.grpcPort}`, from: 'default' };
}

const CLIENT_OF = { 'ingest-gateway': clients.gateway, scheduler: clients.scheduler, 'order-aggregator': clients.orders, monitor: clients.monitor, 'stock-processor': clients.stockProcessor };

/** Calls `method` of `service` with `request`; gRPC failures become CliErrors with their exit code. */
async function call(cmd, service, method, request = {}) {
  const opts = cmd.optsWithGlobals();
  const { address, from } = addressOf(service, opts);
  const client = CLIENT_OF[service](address);
  const metadata = new grpc.Metadata();
  const token = opts.token ?? process.env.PIPEWRIGHT_TOKEN;
  if (token) metadata.set('authorization', `Bearer ${token}`);
  try {
    return await client[method](request, { metadata, deadlineMs: Number(opts.timeout) });
  } catch (err) {
    throw grpcFailure(err, service, address, from);
  } finally {
    client.close();
  }
}

function grpcFailure(err, service, address, from) {
  const s = grpc.status;
  const details = err?.details || err?.message || String(err);
  switch (err?.code) {
    case s.INVALID_ARGUMENT:
      return new CliError(`invalid argument: ${details}`, EXIT.invalid);
    case s.NOT_FOUND:
      return new CliError(`not found: ${details}`, EXIT.notFound);
    case s.FAILED_PRECONDITION:
      return new CliError(details, EXIT.precondition);
    case s.UNAVAILABLE:
    case s.DEADLINE_EXCEEDED:
      return new CliError(`cannot reach the ${service} at ${address} (${from}): start the local run with \`npm start\`, or pass --${service} host:port`, EXIT.unreachable);
    case s.UNAUTHENTICATED:
    case s.PERMISSION_DENIED:
      return new CliError(`the ${service} refused the call (${details}): pass --token or set PIPEWRIGHT_TOKEN to a token with the method's scope`);
    default:
      return new CliError(`the ${service} at ${address} failed: ${details}`);
  }
}

// ---------------------------------------------------------------------------------------------
// Output

const time = (d) => (d ? d.toISOString() : '-');
const dash = (v) => (v === undefined || v === null || v === '' ? '-' : String(v));
const enumName = (toJSON, prefix) => (v) => String(toJSON(v)).replace(prefix, '');
const jobStatus = enumName(schedulerV1.jobStatusToJSON, 'JOB_STATUS_');
const lagStatus = enumName(monitorV1.lagStatusToJSON, 'LAG_STATUS_');

/** Rows as columns aligned on the widest cell, under a header. */
function table(header, rows) {
  const cells = [header, ...rows.map((r) => r.map(dash))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ')).join('\n');
}

/** Label: value lines. */
const fields = (pairs) => {
  const width = Math.max(...pairs.map(([k]) => k.length));
  return pairs.map(([k, v]) => `${`${k}:`.padEnd(width + 1)} ${dash(v)}`).join('\n');
};

/** Prints `message` as JSON (through its type's toJSON) with --json, else what `human` returns. */
function output(cmd, type, message, human) {
  if (cmd.optsWithGlobals().json) console.log(JSON.stringify(type.toJSON(message), null, 2));
  else console.log(human(message));
}

const more = (token) => (token ? `\n(more: --page-token ${token})` : '');

// ---------------------------------------------------------------------------------------------
// Argument parsing

const int = (name) => (v) => {
  if (!/^\d+$/.test(v)) throw usage(`${name} takes a whole number, not "${v}"`);
  return Number(v);
};
const number = (name) => (v) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw usage(`${name} takes a number, not "${v}"`);
  return n;
};
const date = (name) => (v) => {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw usage(`${name} takes a time such as 2026-12-01T12:00:00Z, not "${v}"`);
  return d;
};
const jsonObject = (name) => (v) => {
  let parsed;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    throw usage(`${name} is not JSON: ${err.message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage(`${name} takes a JSON object, such as '{"n": 1}'`);
  return parsed;
};
const oneOf = (name, values) => (v) => {
  const key = v.toLowerCase();
  if (!(key in values)) throw usage(`${name} takes one of ${Object.keys(values).join(', ')}, not "${v}"`);
  return values[key];
};

const STATUSES = Object.fromEntries(
  Object.values(schedulerV1.JobStatus)
    .filter((v) => typeof v === 'number' && v > 0)
    .map((v) => [jobStatus(v).toLowerCase(), v]),
);
const PRIORITIES = { high: ingestV1.Priority.PRIORITY_HIGH, normal: ingestV1.Priority.PRIORITY_NORMAL, low: ingestV1.Priority.PRIORITY_LOW };
const AGGREGATE_ORDER = {
  product: ordersV1.AggregateOrder.AGGREGATE_ORDER_UNSPECIFIED,
  total: ordersV1.AggregateOrder.AGGREGATE_ORDER_TOTAL,
  count: ordersV1.AggregateOrder.AGGREGATE_ORDER_COUNT,
  average: ordersV1.AggregateOrder.AGGREGATE_ORDER_AVERAGE,
};
const F = stockprocessorV1.RatioField;
const RATIO_FIELDS = {
  market_cap: F.RATIO_FIELD_MARKET_CAP,
  market_cap_usd: F.RATIO_FIELD_MARKET_CAP_USD,
  price: F.RATIO_FIELD_PRICE,
  eps: F.RATIO_FIELD_EPS,
  pe: F.RATIO_FIELD_PE,
  pb: F.RATIO_FIELD_PB,
  ps: F.RATIO_FIELD_PS,
  ev_ebitda: F.RATIO_FIELD_EV_EBITDA,
  debt_to_equity: F.RATIO_FIELD_DEBT_TO_EQUITY,
  roe: F.RATIO_FIELD_ROE,
  current_ratio: F.RATIO_FIELD_CURRENT_RATIO,
  dividend_yield: F.RATIO_FIELD_DIVIDEND_YIELD,
};

/** 'pe<15', 'roe>=0.1', 'price=10' → a RatioFilter (bounds are inclusive); repeated flags add up. */
function ratioFilter(v, previous = []) {
  const m = /^\s*([a-z_]+)\s*(<=|>=|<|>|=)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i.exec(v);
  if (!m) throw usage(`--filter takes <field><op><number> such as 'pe<15' or 'roe>=0.1', not "${v}"`);
  const field = oneOf('--filter', RATIO_FIELDS)(m[1]);
  const n = Number(m[3]);
  const bound = m[2].startsWith('<') ? { max: n } : m[2].startsWith('>') ? { min: n } : { min: n, max: n };
  return [...previous, { field, ...bound }];
}

// ---------------------------------------------------------------------------------------------
// Commands

const program = new Command('pipewright')
  .description("pipewright's command-line tool: jobs, orders, consumer lag, dead letters and service health over the services' gRPC APIs")
  .exitOverride()
  .showHelpAfterError('(pipewright --help for usage)')
  .option('--json', 'print the response as JSON (read commands)')
  .option('--token <token>', 'bearer token sent as authorization metadata (default: PIPEWRIGHT_TOKEN)')
  .option('--timeout <ms>', 'deadline of each call in milliseconds', '10000');
for (const s of SERVICE_LIST) program.addOption(new Option(`--${s.name} <host:port>`, `address of the ${s.name} (default: ${envName(s.name)}, the local run's, 127.0.0.1:${s.grpcPort})`));

program
  .command('status')
  .description("every service's grpc.health.v1 status and address (exit 5 when one cannot be reached)")
  .argument('[services...]', 'only these services')
  .action(async (only, _o, cmd) => {
    const opts = cmd.optsWithGlobals();
    for (const name of only) if (!SERVICE_LIST.some((s) => s.name === name)) throw usage(`no service is called "${name}" (services: ${SERVICE_LIST.map((s) => s.name).join(', ')})`);
    const chosen = SERVICE_LIST.filter((s) => only.length === 0 || only.includes(s.name));
    const services = await Promise.all(
      chosen.map(async (s) => {
        const { address, from } = addressOf(s.name, opts);
        try {
          return { service: s.name, address, from, status: await healthCheck(address, '', Math.min(Number(opts.timeout), 3000)) };
        } catch (err) {
          return { service: s.name, address, from, status: 'UNREACHABLE', error: err.details || err.message };
        }
      }),
    );
    if (opts.json) console.log(JSON.stringify({ services }, null, 2));
    else
      console.log(
        table(
          ['SERVICE', 'STATUS', 'ADDRESS', 'FROM'],
          services.map((s) => [s.service, s.status, s.address, s.from]),
        ),
      );
    const down = services.filter((s) => s.status === 'UNREACHABLE');
    if (down.length) {
      console.error(`pipewright: ${down.map((s) => s.service).join(', ')} cannot be reached: start the local run with \`npm start\`, or pass --<service> host:port`);
      exitCode = EXIT.unreachable;
    } else if (!services.every((s) => s.status === 'SERVING')) exitCode = EXIT.other;
  });

// jobs ----------------------------------------------------------------------------------------

const jobs = program.command('jobs').description('schedule, list and control jobs (the gateway and the scheduler)');

const jobFields = (j) =>
  fields([
    ['job id', j.jobId],
    ['request id', j.requestId],
    ['app', j.appName],
    ['status', jobStatus(j.status)],
    ['priority', j.priority],
    ['schedule', j.schedule],
    ['scheduled', time(j.scheduledTime)],
    ['next fire', time(j.nextFireAt)],
    ['created', time(j.createdAt)],
    ['fired', time(j.firedAt)],
    ['started', time(j.startedAt)],
    ['finished', time(j.finishedAt)],
    ['attempts', j.attempts],
    ['runs', j.runs],
    ['skipped', j.skipped],
    ['last error', j.lastError],
    ['data', j.jobData ? JSON.stringify(j.jobData) : ''],
  ]);

jobs
  .command('schedule')
  .description('schedule a job through the ingest gateway; prints its request id')
  .requiredOption('--app <name>', 'the app that runs it')
  .option('--at <time>', 'when (ISO 8601; default now)')
  .option('--cron <expr>', 'recurring: a cron expression (five or six fields)')
  .option('--timezone <zone>', 'IANA zone of the cron expression (default UTC)')
  .option('--every <ms>', 'recurring: every so many milliseconds', int('--every'))
  .option('--data <json>', 'job data, a JSON object', jsonObject('--data'))
  .option('--priority <priority>', 'high, normal or low', oneOf('--priority', PRIORITIES))
  .option('--idempotency-key <key>', 'jobs with the same key are scheduled once')
  .option('--request-id <id>', 'default: generated')
  .action(async (o, cmd) => {
    if (o.cron && o.every) throw usage('--cron and --every cannot be used together');
    const schedule = o.cron || o.every ? { cron: o.cron ?? '', timezone: o.timezone ?? '', everyMs: o.every ?? 0 } : undefined;
    const req = { appName: o.app, scheduledTime: o.at ?? '', jobData: o.data, schedule, priority: o.priority ?? 0, idempotencyKey: o.idempotencyKey ?? '', requestId: o.requestId ?? '' };
    const res = await call(cmd, 'ingest-gateway', 'scheduleJob', req);
    output(cmd, ingestV1.ScheduleJobResponse, res, (r) => `${r.requestId}\n(accepted: ${r.topic} partition ${r.partition} offset ${r.offset}; pipewright jobs get ${r.requestId})`);
  });

jobs
  .command('get')
  .description('a job, by job id or request id')
  .argument('<id>')
  .action(async (id, _o, cmd) => output(cmd, schedulerV1.Job, await call(cmd, 'scheduler', 'getJob', { jobId: id }), jobFields));

jobs
  .command('list')
  .description('jobs, filtered')
  .option('--app <name>', 'of this app')
  .option('--status <status>', `in this status (${Object.keys(STATUSES).join(', ')})`, oneOf('--status', STATUSES))
  .option('--from <time>', 'scheduled at or after', date('--from'))
  .option('--to <time>', 'scheduled before', date('--to'))
  .option('--limit <n>', 'page size', int('--limit'))
  .option('--page-token <token>', 'the next page of an earlier list')
  .action(async (o, cmd) => {
    const req = { appName: o.app ?? '', status: o.status ?? 0, scheduledFrom: o.from, scheduledTo: o.to, pageSize: o.limit ?? 0, pageToken: o.pageToken ?? '' };
    const res = await call(cmd, 'scheduler', 'listJobs', req);
    output(
      cmd,
      schedulerV1.ListJobsResponse,
      res,
      (r) =>
        table(
          ['JOB ID', 'APP', 'STATUS', 'SCHEDULED', 'RUNS', 'LAST ERROR'],
          r.jobs.map((j) => [j.jobId, j.appName, jobStatus(j.status), time(j.scheduledTime), String(j.runs), j.lastError]),
        ) + more(r.nextPageToken),
    );
  });

for (const [verb, method, description] of [
  ['cancel', 'cancelJob', 'cancel a job'],
  ['pause', 'pauseJob', 'pause a job (its occurrences do not fire until resumed)'],
  ['resume', 'resumeJob', 'resume a paused job'],
  ['trigger', 'triggerNow', 'fire a job now'],
]) {
  jobs
    .command(verb)
    .description(description)
    .argument('<id>', 'job id or request id')
    .action(async (id, _o, cmd) => {
      let job;
      try {
        job = await call(cmd, 'scheduler', method, { jobId: id });
      } catch (err) {
        if (err instanceof CliError && err.code === EXIT.precondition) throw new CliError(`job ${id}: ${err.message}`, err.code);
        throw err;
      }
      output(cmd, schedulerV1.Job, job, (j) => `job ${j.jobId}: ${jobStatus(j.status)}`);
    });
}

jobs
  .command('runs')
  .description("a job's runs, newest first")
  .argument('<id>', 'job id or request id')
  .option('--limit <n>', 'page size', int('--limit'))
  .option('--page-token <token>', 'the next page of an earlier list')
  .action(async (id, o, cmd) => {
    const res = await call(cmd, 'scheduler', 'listRuns', { jobId: id, pageSize: o.limit ?? 0, pageToken: o.pageToken ?? '' });
    output(
      cmd,
      schedulerV1.ListRunsResponse,
      res,
      (r) =>
        table(
          ['RUN ID', 'STATUS', 'ATTEMPT', 'DUE', 'STARTED', 'FINISHED', 'ERROR'],
          r.runs.map((x) => [x.runId, jobStatus(x.status), String(x.attempt), time(x.dueAt), time(x.startedAt), time(x.finishedAt), x.error]),
        ) + more(r.nextPageToken),
    );
  });

// orders --------------------------------------------------------------------------------------

const orders = program.command('orders').description('submit orders and read their aggregates (the gateway and the order aggregator)');

const aggregateRow = (a) => [a.product || '(all)', a.total, String(a.count), a.average, a.min, a.max, String(a.quantity), time(a.lastOrderTime)];
const AGGREGATE_HEADER = ['PRODUCT', 'TOTAL', 'COUNT', 'AVERAGE', 'MIN', 'MAX', 'QUANTITY', 'LAST ORDER'];

orders
  .command('submit')
  .description('submit one order through the ingest gateway')
  .requiredOption('--product <product>')
  .requiredOption('--price <price>', 'unit price', number('--price'))
  .option('--quantity <n>', 'default 1', int('--quantity'))
  .option('--currency <code>', 'default USD')
  .option('--customer <id>')
  .option('--order-id <id>', 'default: generated')
  .option('--at <time>', 'when it was placed (default: now)', date('--at'))
  .action(async (o, cmd) => {
    const order = ingestV1.Order.fromPartial({
      orderId: o.orderId ?? randomUUID(),
      product: o.product,
      price: o.price,
      quantity: o.quantity ?? 1,
      currency: o.currency ?? '',
      customerId: o.customer ?? '',
      createdAt: o.at ?? new Date(),
    });
    const res = await call(cmd, 'ingest-gateway', 'submitOrders', { orders: [order] });
    output(cmd, ingestV1.SubmitOrdersResponse, res, (r) => r.orders.map((p) => `${p.orderId}\n(accepted: orders partition ${p.partition} offset ${p.offset})`).join('\n'));
  });

orders
  .command('aggregate')
  .description("one product's running aggregate (the overall one with --all), or every product's")
  .argument('[product]')
  .option('--all', 'the overall aggregate of every product')
  .option('--sort <field>', `order of the list: ${Object.keys(AGGREGATE_ORDER).join(', ')}`, oneOf('--sort', AGGREGATE_ORDER))
  .option('--limit <n>', 'page size', int('--limit'))
  .option('--page-token <token>', 'the next page of an earlier list')
  .action(async (product, o, cmd) => {
    if (product || o.all) {
      const res = await call(cmd, 'order-aggregator', 'getAggregate', { product: product ?? '' });
      output(cmd, ordersV1.Aggregate, res, (a) => table(AGGREGATE_HEADER, [aggregateRow(a)]));
      return;
    }
    const res = await call(cmd, 'order-aggregator', 'listAggregates', { orderBy: o.sort ?? 0, pageSize: o.limit ?? 0, pageToken: o.pageToken ?? '' });
    output(cmd, ordersV1.ListAggregatesResponse, res, (r) => table(AGGREGATE_HEADER, r.aggregates.map(aggregateRow)) + more(r.nextPageToken));
  });

orders
  .command('windows')
  .description("a product's tumbling windows, oldest first")
  .argument('<product>')
  .requiredOption('--size <size>', "window size, one of the aggregator's ORDERS_WINDOWS (such as 1m, 1h)")
  .option('--from <time>', 'windows starting at or after (default: 24 hours ago)', date('--from'))
  .option('--to <time>', 'windows starting before', date('--to'))
  .option('--limit <n>', 'page size', int('--limit'))
  .option('--page-token <token>', 'the next page of an earlier list')
  .action(async (product, o, cmd) => {
    const res = await call(cmd, 'order-aggregator', 'listWindows', { product, windowSize: o.size, from: o.from, to: o.to, pageSize: o.limit ?? 0, pageToken: o.pageToken ?? '' });
    output(
      cmd,
      ordersV1.ListWindowsResponse,
      res,
      (r) =>
        table(
          ['START', 'END', 'TOTAL', 'COUNT', 'AVERAGE', 'MIN', 'MAX', 'QUANTITY'],
          r.windows.map((w) => [time(w.startTime), time(w.endTime), w.total, String(w.count), w.average, w.min, w.max, String(w.quantity)]),
        ) + more(r.nextPageToken),
    );
  });

// monitor -------------------------------------------------------------------------------------

program
  .command('lag')
  .description("consumer groups with their lag and status, or one group's lag per partition (the monitor)")
  .argument('[group]')
  .action(async (group, _o, cmd) => {
    if (group) {
      const res = await call(cmd, 'monitor', 'getConsumerLag', { groupId: group });
      output(
        cmd,
        monitorV1.ConsumerLag,
        res,
        (l) =>
          `${l.groupId}: ${lagStatus(l.status)}, lag ${l.total} (max ${l.maxLag}, ${l.maxLagSeconds.toFixed(1)} s)\n` +
          table(
            ['TOPIC', 'PARTITION', 'LAG', 'COMMITTED', 'END', 'STATUS', 'LAST COMMIT'],
            l.partitions.map((p) => [p.topic, String(p.partition), String(p.lag), String(p.committedOffset), String(p.endOffset), lagStatus(p.status), time(p.lastCommitTime)]),
          ),
      );
      return;
    }
    const res = await call(cmd, 'monitor', 'listConsumerGroups');
    output(cmd, monitorV1.ListConsumerGroupsResponse, res, (r) =>
      table(
        ['GROUP', 'STATUS', 'LAG', 'MAX LAG', 'STATE', 'MEMBERS', 'TOPICS'],
        r.groups.map((g) => [g.groupId, lagStatus(g.status), String(g.totalLag), String(g.maxLag), g.state, String(g.members), g.topics.join(',')]),
      ),
    );
  });

const dlq = program.command('dlq').description('dead letters (the monitor)');
dlq
  .command('list')
  .description('dead letters, newest first')
  .argument('[topic]', 'of this DLQ topic (default: every one)')
  .option('--original-topic <topic>', 'that came from this topic')
  .option('--error <text>', 'whose error message contains this text')
  .option('--from <time>', 'dead-lettered at or after', date('--from'))
  .option('--to <time>', 'dead-lettered before', date('--to'))
  .option('--limit <n>', 'page size (default 50)', int('--limit'))
  .option('--page-token <token>', 'the next page of an earlier list')
  .action(async (topic, o, cmd) => {
    const req = { dlqTopic: topic ?? '', originalTopic: o.originalTopic ?? '', errorContains: o.error ?? '', from: o.from, to: o.to, pageSize: o.limit ?? 0, pageToken: o.pageToken ?? '' };
    const res = await call(cmd, 'monitor', 'listDeadLetters', req);
    output(
      cmd,
      monitorV1.ListDeadLettersResponse,
      res,
      (r) =>
        table(
          ['DLQ TOPIC', 'AT', 'DEAD-LETTERED', 'FROM', 'KEY', 'ERROR'],
          r.deadLetters.map((d) => [
            d.dlqTopic,
            `${d.partition}:${d.offset}`,
            time(d.deadLetteredAt),
            d.originalTopic ? `${d.originalTopic}[${d.originalPartition}]@${d.originalOffset}` : '',
            d.keyText,
            d.errorMessage,
          ]),
        ) + more(r.nextPageToken),
    );
  });

// stock processor -----------------------------------------------------------------------------

const ratios = program.command('ratios').description("the screener over the stock processor's ratios");
ratios
  .command('list')
  .description('symbols with their ratios, filtered and sorted')
  .option('--run <id>', "this run's figures (default: each symbol's latest)")
  .option('--region <code>')
  .option('--sector <sector>')
  .option('--filter <bound>', `a bound such as 'pe<15' or 'roe>=0.1' (inclusive; repeatable); fields: ${Object.keys(RATIO_FIELDS).join(', ')}`, ratioFilter)
  .option('--sort <field>', 'sort by this field (default: symbol)', oneOf('--sort', RATIO_FIELDS))
  .option('--desc', 'largest first')
  .option('--limit <n>', 'page size', int('--limit'))
  .option('--page-token <token>', 'the next page of an earlier list')
  .action(async (o, cmd) => {
    const req = {
      runId: o.run ?? '',
      region: o.region ?? '',
      sector: o.sector ?? '',
      filters: o.filter ?? [],
      orderBy: o.sort ?? 0,
      descending: Boolean(o.desc),
      pageSize: o.limit ?? 0,
      pageToken: o.pageToken ?? '',
    };
    const res = await call(cmd, 'stock-processor', 'listRatios', req);
    const fixed = (v, digits = 2) => (v === undefined ? '' : v.toFixed(digits));
    output(
      cmd,
      stockprocessorV1.ListRatiosResponse,
      res,
      (r) =>
        table(
          ['SYMBOL', 'REGION', 'SECTOR', 'PRICE', 'P/E', 'P/B', 'ROE', 'DIV YIELD', 'MARKET CAP USD'],
          r.ratios.map((x) => [x.symbol, x.region, x.sector, fixed(x.price), fixed(x.peRatio), fixed(x.pbRatio), fixed(x.roe, 3), fixed(x.dividendYield, 3), fixed(x.marketCapUsd, 0)]),
        ) + more(r.nextPageToken),
    );
  });

// ---------------------------------------------------------------------------------------------

async function main(argv) {
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help, or the version) already.
      if (err.exitCode === 0 || err.code === 'commander.help' || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      return EXIT.invalid;
    }
    if (err instanceof CliError) {
      console.error(`pipewright: ${err.message}`);
      return err.code;
    }
    console.error(`pipewright: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.other;
  }
}

process.exitCode = await main(process.argv);

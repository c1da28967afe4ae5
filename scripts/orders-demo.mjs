// npm run orders-demo: what a shop's order producer does. Random orders of a few products at a
// chosen rate go in through the gateway's SubmitOrders (or straight to Kafka as plain Avro), a
// chosen share of bad messages straight to Kafka for orders-dlq; each one sent is printed, then
// the aggregates, read back over gRPC, and whether they grew by exactly what was sent.
// Run `npm run orders-demo -- --help` for the options.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import kafkajs from 'kafkajs';
import { tapTopic } from '@pipewright/testkit';
import { clients, healthCheck } from './lib/clients.mjs';
import { SERVICE_LIST } from './lib/services.mjs';
import { ROOT } from './lib/system.mjs';

const require = createRequire(import.meta.url);
const { TOPICS, encodeOrder, priceDecimal } = require('@pipewright/contracts');
const { parseDuration } = require('@pipewright/platform');
const { ordersV1 } = require('@pipewright/proto');

const portOf = (name) => SERVICE_LIST.find((s) => s.name === name).grpcPort;
const home = process.env.PIPEWRIGHT_HOME ?? join(ROOT, '.pipewright');

/** Each product's price range. */
const PRODUCTS = { keyboard: [20, 120], mouse: [5, 60], monitor: [120, 600], headset: [15, 200], webcam: [25, 150] };
const NAMES = Object.keys(PRODUCTS);

const HELP = `npm run orders-demo -- [options]

Sends random orders (${NAMES.join(', ')}: random prices, 1 to 3 of
each) at a chosen rate, prints each one, waits until the order-aggregator has handled them all,
then prints the aggregates read back over gRPC (GetAggregate overall, ListAggregates by total),
GetStats, and whether the aggregates grew by exactly what this run sent. Needs the system
running: npm start in another terminal.

  --rate N            orders per second (default 10)
  --count N           orders to send (default 100), or
  --duration 30s      send for this long (Ctrl-C also ends the sending early)
  --via gateway|kafka gateway (default): SubmitOrders on the ingest-gateway, up to --batch orders
                      a call; kafka: plain Avro (packages/contracts/avro/order.avsc) written
                      straight to the orders topic with kafkajs, keyed by orderId
  --batch N           most orders in one SubmitOrders call or produce request (default 20)
  --failure-rate F    share of the messages sent (0 to 1, default 0) that are bad on purpose,
                      written straight to Kafka whatever --via says (the gateway refuses them):
                      half an order as JSON (bytes that are not Avro), half an Avro order with a
                      negative price. The aggregator sends each to orders-dlq at once; the demo
                      prints the dead letters as they arrive. It does not change the aggregator:
                      retries come from the aggregator's own simulated processing failure, set
                      when the system starts: ORDERS_FAILURE_RATE=0.5 npm start
  --gateway ADDR      ingest-gateway (GATEWAY_ADDR, default 127.0.0.1:${portOf('ingest-gateway')})
  --aggregator ADDR   order-aggregator (AGGREGATOR_ADDR, default 127.0.0.1:${portOf('order-aggregator')})
  --brokers LIST      Kafka (KAFKA_BROKERS, else the broker npm start lists in ${join(home, 'processes.json')});
                      needed for --via kafka, --failure-rate and to show the dead letters
  --help              this text`;

class UsageError extends Error {}

function options() {
  const { values } = parseArgs({
    options: {
      rate: { type: 'string', default: '10' },
      count: { type: 'string' },
      duration: { type: 'string' },
      via: { type: 'string', default: 'gateway' },
      batch: { type: 'string', default: '20' },
      'failure-rate': { type: 'string', default: '0' },
      gateway: { type: 'string', default: process.env.GATEWAY_ADDR ?? `127.0.0.1:${portOf('ingest-gateway')}` },
      aggregator: { type: 'string', default: process.env.AGGREGATOR_ADDR ?? `127.0.0.1:${portOf('order-aggregator')}` },
      brokers: { type: 'string', default: process.env.KAFKA_BROKERS },
      help: { type: 'boolean' },
    },
  });
  if (values.help) return { help: true };
  const number = (name, ok, what, text = values[name]) => {
    const n = Number(text);
    if (!Number.isFinite(n) || !ok(n)) throw new UsageError(`--${name} must be ${what}, not "${text}"`);
    return n;
  };
  if (values.count !== undefined && values.duration !== undefined) throw new UsageError('give --count or --duration, not both');
  let durationMs;
  if (values.duration !== undefined) {
    try {
      durationMs = parseDuration(values.duration, 1);
    } catch (err) {
      throw new UsageError(`--duration: ${err.message}`);
    }
  }
  if (!['gateway', 'kafka'].includes(values.via)) throw new UsageError(`--via is gateway or kafka, not "${values.via}"`);
  return {
    rate: number('rate', (n) => n > 0, 'a number above 0'),
    count: durationMs === undefined ? number('count', (n) => Number.isInteger(n) && n > 0, 'a whole number above 0', values.count ?? '100') : Infinity,
    durationMs,
    via: values.via,
    batch: number('batch', (n) => Number.isInteger(n) && n >= 1 && n <= 1000, 'a whole number from 1 to 1000'),
    failureRate: number('failure-rate', (n) => n >= 0 && n <= 1, 'a share from 0 to 1'),
    gateway: values.gateway,
    aggregator: values.aggregator,
    brokers: values.brokers ?? localBrokers(),
  };
}

/** The broker of the local run (npm start), from its processes.json, when there is one. */
function localBrokers() {
  const file = join(home, 'processes.json');
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')).find((p) => p.name === 'Kafka')?.brokers;
  } catch {
    return undefined;
  }
}

// Exact decimal text ("12.34") as a scaled BigInt, for comparing money without rounding.
const decimal = (text) => {
  const [int, frac = ''] = String(text).split('.');
  return { n: BigInt(`${int}${frac}`), scale: frac.length };
};
const scaled = (d, scale) => d.n * 10n ** BigInt(scale - d.scale);
const addDecimal = (a, b) => {
  const scale = Math.max(a.scale, b.scale);
  return { n: scaled(a, scale) + scaled(b, scale), scale };
};
const subDecimal = (a, b) => addDecimal(a, { n: -b.n, scale: b.scale });
const sameDecimal = (a, b) => subDecimal(a, b).n === 0n;
const showDecimal = ({ n, scale }) => {
  const digits = (n < 0n ? -n : n).toString().padStart(scale + 1, '0');
  const text = scale ? `${digits.slice(0, -scale)}.${digits.slice(-scale)}`.replace(/\.?0+$/, '') : digits;
  return n < 0n ? `-${text}` : text;
};
const ZERO = decimal('0');

const pick = (list) => list[Math.floor(Math.random() * list.length)];
const cents = (lo, hi) => Math.round((lo + Math.random() * (hi - lo)) * 100) / 100;

/** One message to send: a good order, or (with the chosen share) a bad one. */
function nextMessage(failureRate) {
  const orderId = randomUUID();
  const product = pick(NAMES);
  const price = cents(...PRODUCTS[product]);
  if (Math.random() < failureRate) {
    if (Math.random() < 0.5) return { orderId, bad: 'JSON, not Avro', value: Buffer.from(JSON.stringify({ orderId, product, price })) };
    return { orderId, bad: 'a negative price', value: encodeOrder({ orderId, product, price: -price, createdAt: Date.now() }) };
  }
  return { orderId, product, price, quantity: 1 + Math.floor(Math.random() * 3), currency: 'USD', customerId: `customer-${1 + Math.floor(Math.random() * 50)}`, createdAt: Date.now() };
}

/** Exact amount of an order as the aggregator counts it: the float price's decimal times the quantity. */
const amountOf = (o) => {
  const p = decimal(priceDecimal(o.price));
  return { n: p.n * BigInt(o.quantity), scale: p.scale };
};

function describe(m) {
  if (m.bad) return `${m.orderId}  bad: ${m.bad}`;
  return `${m.orderId}  ${m.product.padEnd(8)} ${m.quantity} x ${priceDecimal(m.price).padStart(6)} = ${showDecimal(amountOf(m)).padStart(7)}`;
}

const say = (line) => console.log(line);
const fail = (line) => {
  console.error(`[orders-demo] ${line}`);
  process.exit(1);
};

async function connectKafka(brokers) {
  const kafka = new kafkajs.Kafka({ clientId: 'orders-demo', brokers: brokers.split(','), logLevel: kafkajs.logLevel.NOTHING, connectionTimeout: 3000, retry: { retries: 2 } });
  const producer = kafka.producer({ createPartitioner: kafkajs.Partitioners.DefaultPartitioner, allowAutoTopicCreation: false });
  try {
    await producer.connect();
  } catch (err) {
    fail(`cannot reach Kafka at ${brokers} (${err.message}): start the system with npm start in another terminal, or pass --brokers host:port`);
  }
  return { kafka, producer };
}

/** The aggregates of these products (zero for one not counted yet). */
async function aggregatesOf(orders, products) {
  const out = new Map();
  for (const product of products) {
    const a = await orders.getAggregate({ product }).catch((err) => {
      if (err.code === 5) return { count: 0, total: '0' };
      throw err;
    });
    out.set(product, a);
  }
  return out;
}

const handled = (s) => s.messagesProcessed + s.messagesSentToDlq + s.duplicates;

async function main() {
  let opts;
  try {
    opts = options();
  } catch (err) {
    console.error(`[orders-demo] ${err.message} (see npm run orders-demo -- --help)`);
    process.exit(2);
  }
  if (opts.help) {
    say(HELP);
    return;
  }

  const check = [[opts.aggregator, 'order-aggregator', '--aggregator']];
  if (opts.via === 'gateway') check.unshift([opts.gateway, 'ingest-gateway', '--gateway']);
  for (const [addr, name, flag] of check) {
    const status = await healthCheck(addr).catch(() => 'no answer');
    if (status !== 'SERVING') fail(`nothing answers at ${addr} (${name}: ${status}): start the system with npm start in another terminal, or pass ${flag} host:port`);
  }
  const needKafka = opts.via === 'kafka' || opts.failureRate > 0;
  if (needKafka && !opts.brokers) fail(`the Kafka brokers are unknown (no ${join(home, 'processes.json')}): start the system with npm start, or pass --brokers host:port (or set KAFKA_BROKERS)`);

  const gateway = clients.gateway(opts.gateway);
  const orders = clients.orders(opts.aggregator);
  const kafka = opts.brokers ? await connectKafka(opts.brokers) : undefined;
  // The dead letters of this run, as the aggregator writes them (read from the topic's end now).
  const dlq = kafka ? await tapTopic(kafka.kafka, TOPICS.ordersDlq) : undefined;
  const sentIds = new Set();
  const deadIds = new Set();
  let dlqShown = 0;
  const showDeadLetters = () => {
    for (const m of dlq?.messages.slice(dlqShown) ?? []) {
      const id = m.key?.toString() ?? '';
      if (sentIds.has(id)) {
        deadIds.add(id);
        say(`  dead letter  ${id}  attempts ${m.headersText.attempts}: ${m.headersText['error-message']}`);
      }
    }
    dlqShown = dlq?.messages.length ?? 0;
  };

  const before = { stats: await orders.getStats({}), overall: await orders.getAggregate({ product: '' }), products: await aggregatesOf(orders, NAMES) };
  let stopping = false;
  process.on('SIGINT', () => {
    if (stopping) process.exit(130);
    stopping = true;
  });

  const how = opts.via === 'gateway' ? `SubmitOrders on ${opts.gateway}` : `plain Avro to ${TOPICS.orders} on ${opts.brokers}`;
  const howMany = Number.isFinite(opts.count) ? `${opts.count} orders` : `orders for ${opts.durationMs / 1000} s`;
  say(`sending ${howMany} at ${opts.rate}/s through ${how}${opts.failureRate ? `, about ${Math.round(opts.failureRate * 100)}% of them bad, straight to ${TOPICS.orders}` : ''}`);
  const sent = [];
  const started = Date.now();
  while (sent.length < opts.count && !stopping && (opts.durationMs === undefined || Date.now() - started < opts.durationMs)) {
    const due = Math.floor(((Date.now() - started) / 1000) * opts.rate) + 1;
    const n = Math.min(due - sent.length, opts.batch, opts.count - sent.length);
    if (n <= 0) {
      await new Promise((r) => setTimeout(r, Math.max(1, started + (sent.length / opts.rate) * 1000 - Date.now())));
      continue;
    }
    const batch = Array.from({ length: n }, () => nextMessage(opts.failureRate));
    for (const m of batch) sentIds.add(m.orderId);
    const good = batch.filter((m) => !m.bad);
    const where = new Map();
    const direct = opts.via === 'kafka' ? batch : batch.filter((m) => m.bad);
    if (direct.length) {
      await kafka.producer.send({ topic: TOPICS.orders, messages: direct.map((m) => ({ key: m.orderId, value: m.value ?? encodeOrder(m) })) });
      for (const m of direct) where.set(m, `${TOPICS.orders} (Kafka)`);
    }
    if (opts.via === 'gateway' && good.length) {
      const res = await gateway.submitOrders({ orders: good.map((m) => ({ ...m, createdAt: new Date(m.createdAt) })) }).catch((err) => fail(`SubmitOrders on ${opts.gateway} failed: ${err.details ?? err.message}`));
      good.forEach((m, i) => where.set(m, `${TOPICS.orders}[${res.orders[i].partition}]@${res.orders[i].offset}`));
    }
    for (const m of batch) {
      sent.push(m);
      say(`${String(sent.length).padStart(5)}  ${describe(m)}  -> ${where.get(m)}`);
    }
    showDeadLetters();
  }

  // Wait until the aggregator has handled every message sent: counted, a duplicate, or dead-lettered.
  const deadline = Date.now() + 60_000;
  let stats = await orders.getStats({});
  while (handled(stats) - handled(before.stats) < sent.length && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    // (An aggregator that cannot answer for a moment, PostgreSQL restarting, is waited for.)
    stats = await orders.getStats({}).catch(() => stats);
    showDeadLetters();
  }
  const dead = stats.messagesSentToDlq - before.stats.messagesSentToDlq;
  while (dlq && deadIds.size < dead && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 250));
    showDeadLetters();
  }
  const caughtUp = handled(stats) - handled(before.stats) >= sent.length;

  say('');
  say('read back over gRPC from the order-aggregator:');
  const overall = await orders.getAggregate({ product: '' });
  say(`GetAggregate (all products): orders ${overall.count}  quantity ${overall.quantity}  total ${overall.total}  average ${overall.average}  min ${overall.min}  max ${overall.max}`);
  const list = await orders.listAggregates({ orderBy: ordersV1.AggregateOrder.AGGREGATE_ORDER_TOTAL, pageSize: 20 });
  say('ListAggregates by total:');
  say(`  ${'product'.padEnd(20)} ${'orders'.padStart(7)} ${'quantity'.padStart(9)} ${'total'.padStart(14)} ${'average'.padStart(14)} ${'min'.padStart(10)} ${'max'.padStart(10)}`);
  for (const a of list.aggregates)
    say(`  ${a.product.padEnd(20)} ${String(a.count).padStart(7)} ${String(a.quantity).padStart(9)} ${a.total.padStart(14)} ${a.average.padStart(14)} ${a.min.padStart(10)} ${a.max.padStart(10)}`);
  if (list.nextPageToken) say('  … (more products: page on with ListAggregates page_token)');
  say(`GetStats: processed ${stats.messagesProcessed}  retried ${stats.messagesRetried}  sent to DLQ ${stats.messagesSentToDlq}  duplicates ${stats.duplicates}  late ${stats.late}`);

  // This run: what should have been counted (good orders not dead-lettered) against what was.
  say('');
  const bad = sent.filter((m) => m.bad).length;
  say(
    `this run: ${sent.length} sent (${sent.length - bad} orders, ${bad} bad); by the aggregator: +${stats.messagesProcessed - before.stats.messagesProcessed} counted, ` +
      `+${dead} to ${TOPICS.ordersDlq}, +${stats.messagesRetried - before.stats.messagesRetried} retries, +${stats.duplicates - before.stats.duplicates} duplicates`,
  );
  if (!caughtUp) fail(`the aggregator handled only ${handled(stats) - handled(before.stats)} of the ${sent.length} messages within 60 s; see its log (.pipewright/logs/order-aggregator.log)`);
  if (!dlq && dead > 0) {
    say(`${dead} went to ${TOPICS.ordersDlq}; without Kafka (--brokers) the demo cannot tell which, so it does not check the totals`);
    return;
  }
  const counted = sent.filter((m) => !m.bad && !deadIds.has(m.orderId));
  const after = await aggregatesOf(orders, NAMES);
  const wrong = [];
  const expectAll = { count: 0, total: ZERO };
  for (const product of NAMES) {
    const mine = counted.filter((m) => m.product === product);
    const total = mine.reduce((t, m) => addDecimal(t, amountOf(m)), ZERO);
    expectAll.count += mine.length;
    expectAll.total = addDecimal(expectAll.total, total);
    const grew = { count: after.get(product).count - before.products.get(product).count, total: subDecimal(decimal(after.get(product).total), decimal(before.products.get(product).total)) };
    if (grew.count !== mine.length || !sameDecimal(grew.total, total)) wrong.push(`${product}: sent ${mine.length} orders totalling ${showDecimal(total)}, counted ${grew.count} totalling ${showDecimal(grew.total)}`);
  }
  const grewAll = { count: overall.count - before.overall.count, total: subDecimal(decimal(overall.total), decimal(before.overall.total)) };
  if (grewAll.count !== expectAll.count || !sameDecimal(grewAll.total, expectAll.total))
    wrong.push(`all products: sent ${expectAll.count} totalling ${showDecimal(expectAll.total)}, counted ${grewAll.count} totalling ${showDecimal(grewAll.total)}`);
  if (wrong.length) {
    for (const w of wrong) console.error(`  differs: ${w}`);
    fail('the aggregates did not grow by exactly what this run sent (did another producer send orders of these products meanwhile?)');
  }
  say(`exact: the aggregates grew by the ${expectAll.count} orders sent and not dead-lettered, totalling ${showDecimal(expectAll.total)}`);
  await dlq?.stop();
  await kafka?.producer.disconnect();
  gateway.close();
  orders.close();
}

await main();
process.exit(0);

import { invalidArgument, prom, unary, type AvroCodec, type Logger, type MessageProducer, type SendResult } from '@pipewright/platform';
import { ingestV1 } from '@pipewright/proto';
import { TOPICS, jobRequestKey, jobRequestToWire, readAppNames, stockRunRecords, type JobRequest, type Order, type ValidationOptions } from '@pipewright/contracts';
import { validateForGrpc } from './jobs';
import { orderFromRequest } from './orders';
import { planFromRequest } from './stocks';
import type { Config } from './config';

/** Well under Kafka's default message.max.bytes (1 MiB) for one record batch. */
const MAX_REQUEST_BYTES = 900_000;

/** Consecutive chunks whose sizes add up to at most max (an item larger than max goes alone). */
export function chunksOfBytes<T>(items: T[], size: (item: T) => number, max: number): T[][] {
  const chunks: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const n = size(item);
    if (current.length && bytes + n > max) {
      chunks.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += n;
  }
  if (current.length) chunks.push(current);
  return chunks;
}

export interface GatewayDeps {
  config: Config;
  producer: MessageProducer;
  registry: prom.Registry;
  logger: Logger;
  orderCodec: AvroCodec<Order>;
  /** Partitions of stock-scraping-tasks, over which a run's regions are spread. */
  scrapingPartitions: number;
}

export function gatewayHandlers({ config, producer, registry, logger, orderCodec, scrapingPartitions }: GatewayDeps): Partial<ingestV1.IngestGatewayServer> {
  const apps = readAppNames(config.APPS_CONFIG);
  const opts: ValidationOptions = { defaultZone: config.INGEST_DEFAULT_TIMEZONE, apps };
  const jobsCounter = new prom.Counter({
    name: 'ingest_jobs_total',
    help: 'Job requests through ScheduleJob(s), by outcome: accepted (published) or invalid (INVALID_ARGUMENT)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const ordersCounter = new prom.Counter({
    name: 'ingest_orders_total',
    help: 'Orders through SubmitOrders, by outcome: accepted (published) or invalid (INVALID_ARGUMENT)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const stockRunsCounter = new prom.Counter({
    name: 'ingest_stock_runs_total',
    help: 'Market-data runs through StartStockRun, by outcome: accepted (announced, tasks published) or invalid (INVALID_ARGUMENT)',
    labelNames: ['outcome'],
    registers: [registry],
  });

  /** Validates a job and encodes it as the scheduler will read it, within the size it accepts. */
  const prepare = (req: ingestV1.ScheduleJobRequest, prefix = '') => {
    try {
      const job = validateForGrpc(req, opts, prefix);
      const value = Buffer.from(JSON.stringify(jobRequestToWire(job)));
      if (value.length > config.INGEST_MAX_JOB_BYTES) {
        throw invalidArgument(`${prefix}job_data`, `the job request is ${value.length} bytes; the limit is ${config.INGEST_MAX_JOB_BYTES}`);
      }
      return { job, message: { key: req.partitionKey || jobRequestKey(job), value } };
    } catch (err) {
      jobsCounter.inc({ outcome: 'invalid' });
      throw err;
    }
  };
  const accepted = (job: JobRequest, r: { topic: string; partition: number; offset: string }) => ({
    requestId: job.requestId,
    topic: r.topic,
    partition: r.partition,
    offset: Number(r.offset),
  });

  /** Messages in the order given, one produce request per chunk under the broker's default request size. */
  const sendInOrder = async (topic: string, messages: Array<{ key: string | null; value: Buffer }>): Promise<SendResult[]> => {
    const sent: SendResult[] = [];
    for (const chunk of chunksOfBytes(messages, (m) => m.value.length + (m.key?.length ?? 0), MAX_REQUEST_BYTES)) sent.push(...(await producer.send(topic, chunk)));
    return sent;
  };

  return {
    scheduleJob: unary(logger, async (req: ingestV1.ScheduleJobRequest) => {
      const { job, message } = prepare(req);
      const [r] = await producer.send(TOPICS.jobsIngest, [message]);
      jobsCounter.inc({ outcome: 'accepted' });
      logger.info({ requestId: job.requestId, app: job.appName, partition: r.partition, offset: r.offset }, 'job accepted');
      return accepted(job, r);
    }),

    // Every job is validated before any is published; then all go in one produce request, in
    // the order given, so jobs that share a key keep their order.
    scheduleJobs: unary(logger, async (req: ingestV1.ScheduleJobsRequest) => {
      if (req.jobs.length === 0) throw invalidArgument('jobs', 'must hold at least one job');
      if (req.jobs.length > config.INGEST_MAX_BATCH) throw invalidArgument('jobs', `must hold at most ${config.INGEST_MAX_BATCH} jobs`);
      const prepared = req.jobs.map((j, i) => prepare(j, `jobs[${i}].`));
      const sent = await sendInOrder(
        TOPICS.jobsIngest,
        prepared.map((p) => p.message),
      );
      jobsCounter.inc({ outcome: 'accepted' }, prepared.length);
      logger.info({ count: prepared.length }, 'jobs accepted');
      return { jobs: prepared.map((p, i) => accepted(p.job, sent[i])) };
    }),

    // Every order is checked before any is published; then they go in the order given, keyed
    // by order id, in as few produce requests as fit.
    submitOrders: unary(logger, async (req: ingestV1.SubmitOrdersRequest) => {
      if (req.orders.length === 0) throw invalidArgument('orders', 'must hold at least one order');
      if (req.orders.length > config.INGEST_MAX_BATCH) throw invalidArgument('orders', `must hold at most ${config.INGEST_MAX_BATCH} orders`);
      let orders: Order[];
      try {
        orders = req.orders.map((o, i) => orderFromRequest(o, `orders[${i}].`));
      } catch (err) {
        ordersCounter.inc({ outcome: 'invalid' }, req.orders.length);
        throw err;
      }
      const messages = orders.map((o) => ({ key: o.orderId, value: orderCodec.encode(o) }));
      const sent = await sendInOrder(TOPICS.orders, messages);
      ordersCounter.inc({ outcome: 'accepted' }, orders.length);
      logger.info({ count: orders.length }, 'orders accepted');
      return { accepted: orders.length, orders: orders.map((o, i) => ({ orderId: o.orderId, partition: sent[i].partition, offset: Number(sent[i].offset) })) };
    }),

    // The announcement first, so that the monitor knows the run before any of its tasks is
    // done; then one scraping task per region, in one produce request.
    startStockRun: unary(logger, async (req: ingestV1.StartStockRunRequest) => {
      let plan;
      try {
        plan = planFromRequest(req, new Date());
      } catch (err) {
        stockRunsCounter.inc({ outcome: 'invalid' });
        throw err;
      }
      for (const r of stockRunRecords(plan, scrapingPartitions)) await producer.send(r.topic, r.messages);
      stockRunsCounter.inc({ outcome: 'accepted' });
      const { runId, regions, tradingDate } = plan.announcement;
      logger.info({ runId, regions, tradingDate, source: plan.announcement.source }, 'stock run started');
      return { runId, tasksSent: plan.tasks.length, tradingDate, regions };
    }),
  };
}

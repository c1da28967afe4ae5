// The adapter over kafkajs (with consumer.ts, kafka-security.ts and partitioner.ts): nothing else in pipewright imports kafkajs.
import { Kafka, logLevel as KafkaLogLevel, type Admin, type KafkaConfig, type SASLOptions, CompressionTypes } from 'kafkajs';
import type { Context } from '@opentelemetry/api';
import { GroupCommit } from './group-commit';
import { injectTraceContext, requestSpans, tracingEnabled } from './telemetry';
import { setting } from './config';
import { authorizationRefusal, kafkaAccessProblem, kafkaSecurityFrom, kafkaSecuritySettings, tlsSocketFactory, type KafkaSecurityConfig, type KafkaSecurityOptions } from './kafka-security';
import type { Logger } from './logger';
import { runConsumer, type ConsumerHandle, type ConsumerSpec } from './consumer';
import { javaCompatiblePartitioner } from './partitioner';
export { murmur2, javaCompatiblePartitioner } from './partitioner';
export { Slots } from './consumer';
export { kafkaAccessProblem, kafkaSecuritySettings, tlsSocketFactory, type KafkaSecurityOptions, type KafkaTlsFiles } from './kafka-security';

export { InvalidMessageError, deadLetterHeaders, oversizeHeaders, DLQ_HEADERS, DLQ_MAX_MESSAGE_BYTES, type InboundMessage } from './dead-letter';
export type { ConsumerHandle, ConsumerSpec, ConsumerStats, BatchItem, BatchOutcome, BatchContext, BatchConsumerSpec, DeadLetter, MessageConsumerSpec } from './consumer';
export { GroupCommit, type GroupCommitOptions } from './group-commit';

export const kafkaSettings = {
  KAFKA_BROKERS: setting.list('Kafka bootstrap servers, host:port'),
  KAFKA_CLIENT_ID: setting.optionalString('Kafka client id; the service name when unset'),
  ...kafkaSecuritySettings,
  KAFKA_TOPIC_PARTITIONS: setting.int('partitions of the topics a service creates', { default: 12, min: 1, max: 10000 }),
  KAFKA_REPLICATION_FACTOR: setting.int('replication factor of created topics; -1 is the broker default', { default: -1, min: -1, max: 100 }),
  KAFKA_SESSION_TIMEOUT: setting.duration('how long a consumer that stopped answering keeps its partitions before the group reassigns them', {
    default: '30s',
    minMs: 6000,
    maxMs: 300_000,
    formerly: 'KAFKA_SESSION_TIMEOUT_MS',
  }),
};

export interface KafkaOptions extends KafkaSecurityOptions {
  brokers: string[];
  clientId: string;
  partitions?: number;
  replicationFactor?: number;
  sessionTimeoutMs?: number;
}

export function kafkaOptionsFrom(
  cfg: KafkaSecurityConfig & {
    KAFKA_BROKERS: string[];
    KAFKA_CLIENT_ID?: string;
    KAFKA_TOPIC_PARTITIONS: number;
    KAFKA_REPLICATION_FACTOR: number;
    KAFKA_SESSION_TIMEOUT: number;
  },
  service: string,
): KafkaOptions {
  return {
    brokers: cfg.KAFKA_BROKERS,
    clientId: cfg.KAFKA_CLIENT_ID ?? service,
    ...kafkaSecurityFrom(cfg),
    partitions: cfg.KAFKA_TOPIC_PARTITIONS,
    replicationFactor: cfg.KAFKA_REPLICATION_FACTOR,
    sessionTimeoutMs: cfg.KAFKA_SESSION_TIMEOUT,
  };
}

/** The kafkajs configuration of the options: TLS (with the settings' files), SASL, timeouts. */
function kafkaConfig(options: KafkaOptions, rest: Partial<KafkaConfig>): KafkaConfig {
  return {
    clientId: options.clientId,
    brokers: options.brokers,
    ssl: options.ssl,
    ...(options.ssl && options.tlsFiles ? { socketFactory: tlsSocketFactory(options.tlsFiles) } : {}),
    sasl: options.sasl as SASLOptions | undefined,
    connectionTimeout: 5000,
    retry: { initialRetryTime: 300, maxRetryTime: 10_000, retries: 12 },
    ...rest,
  };
}

/**
 * Connects once, when TLS or SASL is on, and throws a ConfigError naming the setting when the
 * brokers refuse the service's password or certificate (or it refuses theirs). Brokers that
 * cannot be reached now are left to the service's own retries.
 */
export async function checkKafkaAccess(options: KafkaOptions): Promise<void> {
  if (!options.ssl && !options.sasl) return;
  const admin = new Kafka(kafkaConfig(options, { retry: { retries: 0 }, logLevel: KafkaLogLevel.NOTHING })).admin({ retry: { retries: 0 } });
  try {
    await admin.connect();
  } catch (err) {
    const problem = kafkaAccessProblem(err, options);
    if (problem) throw problem;
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

export interface OutboundMessage {
  key?: string | Buffer | null;
  /** Objects are sent as JSON. */
  value: Buffer | string | object | null;
  headers?: Record<string, string | Buffer | Array<string | Buffer> | undefined>;
  partition?: number;
  /** With tracing on, the trace context the message carries, so that its consumer's span joins that trace (the caller's active context when unset). */
  trace?: Context;
}

export interface SendResult {
  topic: string;
  partition: number;
  offset: string;
}

export interface MessageProducer {
  /** compress: gzip the request (what the broker checks against its size limit is the compressed batch). */
  send(topic: string, messages: OutboundMessage[], opts?: { compress?: boolean }): Promise<SendResult[]>;
  disconnect(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type ProduceRecord = { key: string | Buffer | null; value: Buffer | null; headers?: OutboundMessage['headers']; partition?: number };

function toBuffer(value: OutboundMessage['value']): Buffer | null {
  if (value === null) return null;
  if (Buffer.isBuffer(value)) return value;
  if (typeof value === 'string') return Buffer.from(value);
  return Buffer.from(JSON.stringify(value));
}

/** An admin client connected on first use and kept open between calls; a call that fails drops it, and the next one connects anew. */
export class KeptAdmin {
  private admin?: Promise<Admin>;

  constructor(private readonly make: () => Admin) {}

  async run<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    this.admin ??= (async () => {
      const admin = this.make();
      await admin.connect();
      return admin;
    })();
    try {
      return await fn(await this.admin);
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    const admin = this.admin;
    this.admin = undefined;
    await admin?.then((a) => a.disconnect()).catch(() => undefined);
  }
}

export class KafkaClient {
  readonly kafka: Kafka;

  constructor(
    readonly options: KafkaOptions,
    private readonly logger: Logger,
  ) {
    const log = logger.child({ component: 'kafkajs' });
    const config = kafkaConfig(options, {
      logLevel: KafkaLogLevel.WARN,
      logCreator:
        () =>
        ({ level, log: entry }) => {
          const { message, ...extra } = entry;
          delete (extra as Record<string, unknown>).timestamp;
          delete (extra as Record<string, unknown>).logger;
          if (level <= KafkaLogLevel.ERROR) log.error(extra, message);
          else if (level === KafkaLogLevel.WARN) log.warn(extra, message);
          else log.info(extra, message);
        },
    });
    this.kafka = new Kafka(config);
  }

  private readonly keptAdmin = new KeptAdmin(() => this.kafka.admin({ retry: { retries: 0 } }));

  /**
   * Runs fn with an admin client kept connected between calls (health pings, lag at scrape
   * time), so that a call costs its requests and not a connection of its own. A call that fails
   * drops the connection; the next one connects anew.
   */
  withKeptAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    return this.keptAdmin.run(fn);
  }

  /** Asks the cluster for its brokers over the kept-open admin connection; throws when it cannot. */
  async ping(): Promise<void> {
    await this.withKeptAdmin(async (admin) => {
      const { brokers } = await admin.describeCluster();
      if (brokers.length === 0) throw new Error('the cluster lists no brokers');
    });
  }

  /** Closes the admin connection kept open. */
  close(): Promise<void> {
    return this.keptAdmin.close();
  }

  /**
   * Creates the topics that do not exist yet and waits until every partition has a leader.
   * Safe when several processes race to create the same topics.
   */
  async ensureTopics(topics: Array<string | { topic: string; partitions?: number; maxMessageBytes?: number }>, timeoutMs = 60_000): Promise<void> {
    const wanted = topics.map((t) => (typeof t === 'string' ? { topic: t } : t));
    const names = wanted.map((t) => t.topic);
    const admin = this.kafka.admin();
    await admin.connect();
    const deadline = Date.now() + timeoutMs;
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          const existing = new Set(await admin.listTopics());
          const missing = wanted.filter((t) => !existing.has(t.topic));
          if (missing.length) {
            await admin
              .createTopics({
                waitForLeaders: true,
                topics: missing.map((t) => ({
                  topic: t.topic,
                  numPartitions: t.partitions ?? this.options.partitions ?? 12,
                  replicationFactor: this.options.replicationFactor ?? -1,
                  ...(t.maxMessageBytes ? { configEntries: [{ name: 'max.message.bytes', value: String(t.maxMessageBytes) }] } : {}),
                })),
              })
              .catch((err: { topicErrors?: Array<{ type: string }> }) => {
                // Another process created some of them between listTopics and createTopics.
                if (!err.topicErrors?.every((e) => e.type === 'TOPIC_ALREADY_EXISTS')) throw err;
              });
            this.logger.info({ topics: missing.map((t) => t.topic) }, 'kafka topics created');
          }
          const meta = await admin.fetchTopicMetadata({ topics: names });
          const leaderless = meta.topics.filter((t) => t.partitions.length === 0 || t.partitions.some((p) => p.leader < 0));
          if (leaderless.length === 0) return;
          throw new Error(`no leader yet for ${leaderless.map((t) => t.name).join(', ')}`);
        } catch (err) {
          // A missing ACL is not waited out.
          const refused = authorizationRefusal(err);
          if (refused) throw new Error(`Kafka refused topics ${names.join(', ')}: ${refused} (this service's user lacks an ACL)`, { cause: err });
          if (Date.now() > deadline) throw err;
          await sleep(Math.min(100 * attempt, 1000));
        }
      }
    } finally {
      await admin.disconnect();
    }
  }

  /** How many partitions a topic has (it must exist). */
  async partitionCount(topic: string): Promise<number> {
    const admin = this.kafka.admin();
    await admin.connect();
    try {
      const meta = await admin.fetchTopicMetadata({ topics: [topic] });
      const n = meta.topics[0]?.partitions.length ?? 0;
      if (n === 0) throw new Error(`topic ${topic} has no partitions`);
      return n;
    } finally {
      await admin.disconnect();
    }
  }

  /**
   * A connected producer that waits for all in-sync replicas (acks=all). send() resolves with
   * one result per message, in order: its partition and offset. Sends made while a produce
   * request is under way go out together in the next one (one request for many topics), so
   * concurrent callers share requests instead of each paying a round trip.
   */
  async producer(opts: { maxRequestBytes?: number } = {}): Promise<MessageProducer> {
    // kafkajs hands the partitioner the message objects given to sendBatch: the partition the
    // Java-compatible partitioner chose is written on the record (a retry keeps it), where the
    // results read it back.
    const producer = this.kafka.producer({
      createPartitioner: () => {
        const choose = javaCompatiblePartitioner();
        return (args) => ((args.message as ProduceRecord).partition = choose(args));
      },
      allowAutoTopicCreation: false,
      retry: { retries: 8 },
    });
    await producer.connect();
    const size = (r: ProduceRecord) => (r.value?.length ?? 0) + (r.key?.length ?? 0) + 64;
    type Send = { topic: string; records: ProduceRecord[]; compress: boolean };
    /** One produce request for sends of one compression; results per send, in order. */
    const produce = async (sends: Send[], compress: boolean): Promise<SendResult[][]> => {
      // One entry per topic, its messages in the order they were sent.
      const byTopic = new Map<string, ProduceRecord[]>();
      for (const s of sends) {
        const list = byTopic.get(s.topic);
        if (list) list.push(...s.records);
        else byTopic.set(s.topic, [...s.records]);
      }
      const topicMessages = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
      const spans = tracingEnabled() ? requestSpans(topicMessages.map((t) => ({ topic: t.topic, headers: t.messages.map((m) => m.headers) }))) : undefined;
      let meta: Awaited<ReturnType<typeof producer.sendBatch>>;
      try {
        meta = await producer.sendBatch({ acks: -1, compression: compress ? CompressionTypes.GZIP : CompressionTypes.None, topicMessages });
        spans?.end();
      } catch (err) {
        spans?.end(err as Error);
        throw err;
      }
      // Within a partition the messages of one request take consecutive offsets from its base.
      const next = new Map(meta.map((r) => [`${r.topicName}\u0000${r.partition}`, BigInt(r.baseOffset ?? r.offset ?? '-1')]));
      return sends.map((s) =>
        s.records.map((r) => {
          const partition = r.partition ?? -1;
          const key = `${s.topic}\u0000${partition}`;
          const offset = next.get(key);
          if (offset === undefined) return { topic: s.topic, partition, offset: '-1' };
          next.set(key, offset + 1n);
          return { topic: s.topic, partition, offset: offset.toString() };
        }),
      );
    };
    const requests = new GroupCommit<Send, SendResult[]>(
      async (sends) => {
        const plain = sends.filter((s) => !s.compress);
        const gzip = sends.filter((s) => s.compress);
        const [a, b] = await Promise.all([plain.length ? produce(plain, false) : [], gzip.length ? produce(gzip, true) : []]);
        const out = new Map<Send, SendResult[]>();
        plain.forEach((s, i) => out.set(s, a[i]));
        gzip.forEach((s, i) => out.set(s, b[i]));
        return sends.map((s) => out.get(s) as SendResult[]);
      },
      { maxItems: 10_000, maxWeight: opts.maxRequestBytes ?? 900_000, weight: (s) => s.records.reduce((n, r) => n + size(r), 0) },
    );
    return {
      send: async (topic, messages, sendOpts) => {
        if (messages.length === 0) return [];
        const records: ProduceRecord[] = messages.map((m) => ({
          key: m.key ?? null,
          value: toBuffer(m.value),
          headers: m.headers,
          partition: m.partition,
        }));
        const compress = sendOpts?.compress ?? false;
        if (tracingEnabled()) {
          records.forEach((r, i) => {
            r.headers = { ...r.headers };
            injectTraceContext(messages[i].trace, r.headers);
          });
        }
        return requests.add({ topic, records, compress });
      },
      disconnect: () => producer.disconnect(),
    };
  }

  /** Runs a consumer-group member (see consumer.ts). */
  consume<T>(spec: ConsumerSpec<T>, dlqProducer: MessageProducer): Promise<ConsumerHandle> {
    return runConsumer(this.kafka, { sessionTimeoutMs: this.options.sessionTimeoutMs }, this.logger, spec, dlqProducer);
  }
}

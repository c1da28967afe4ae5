// What a consumer is given and what it gives back: the spec of each mode (a message at a time, a
// fetched batch at a time), what a batch handler receives and may answer, the handle and its stats.
import type { Context } from '@opentelemetry/api';
import type { InboundMessage } from './dead-letter';

export interface CommonSpec<T> {
  groupId: string;
  topics: string[];
  /** Where messages that cannot be decoded or validated go. */
  dlqTopic: string;
  /** Turns bytes into a value; throwing sends the message to the DLQ. */
  decode: (msg: InboundMessage) => T;
  partitionsConsumedConcurrently?: number;
  fromBeginning?: boolean;
  sessionTimeoutMs?: number;
  /** Restarts in a row after crashes kafkajs will not restart before the consumer gives up (default 5). */
  maxRestarts?: number;
  /**
   * Offsets of work done are committed together at most this often (default
   * COMMIT_INTERVAL_MS): one request for every partition, instead of one per batch. The work is
   * durable before its offset is noted, so a crash in between only redelivers what is already
   * done, which the handlers find done.
   */
  commitIntervalMs?: number;
  /**
   * Called with the messages just sent to the DLQ, before their offsets are noted for commit
   * (retried alone while it fails; the messages are sent once): for a service that records what
   * it refused.
   */
  onDeadLetters?: (entries: DeadLetter[]) => Promise<void>;
}

/** One message at a time: for work that cannot be batched. */
export interface MessageConsumerSpec<T> extends CommonSpec<T> {
  /** Does the work. Resolving means the work is durable; the offset is committed after. An
   * InvalidMessageError sends the message to the DLQ; any other error is retried with backoff. */
  handle: (value: T, msg: InboundMessage) => Promise<void>;
  handleBatch?: never;
  onAssignment?: never;
  /**
   * For work whose order does not matter: messages of one partition are handled at the same
   * time, up to this many in flight across the whole consumer, and each partition's offset is
   * committed up to its first unfinished message. Unset: one message at a time per partition,
   * in order.
   */
  maxInFlight?: number;
}

export interface BatchItem<T> {
  value: T;
  msg: InboundMessage;
  /** With tracing on: the context of this message's span, in its producer's trace (see inTraceContext). */
  trace?: Context;
}

/** A message given up on; attempts, when set, is how many times its work was tried. */
export interface DeadLetter {
  msg: InboundMessage;
  error: Error;
  attempts?: number;
}

/** What a batch handler may say of single messages: these go to the DLQ, the rest is done. */
export interface BatchOutcome {
  rejected?: DeadLetter[];
}

export interface BatchContext {
  heartbeat(): Promise<void>;
}

/**
 * A fetched batch at a time, per partition and in offset order: the handler makes the whole
 * batch durable (one transaction, a few multi-row statements) and the offset is committed once.
 * Messages that fail to decode, or that the handler rejects, go to the DLQ and the rest of the
 * batch commits. Any error thrown retries the batch (without the dead-lettered messages).
 */
export interface BatchConsumerSpec<T> extends CommonSpec<T> {
  handle?: never;
  /**
   * For consumers that keep their offsets with their own state (in the same transaction): called
   * with the partitions the group assigned this member, it returns where to resume in each (the
   * next offset to read); those it leaves out resume from the group's committed offset. No batch
   * is handled before it has answered; a failure is retried with backoff.
   */
  onAssignment?: (partitions: Array<{ topic: string; partition: number }>) => Promise<Array<{ topic: string; partition: number; offset: string }>>;
  handleBatch: (items: Array<BatchItem<T>>, ctx: BatchContext) => Promise<BatchOutcome | void>;
  /** Most messages handed to one handleBatch call (a fetched batch is split). Default 1000. */
  maxBatchSize?: number;
  /**
   * False for a consumer whose offsets live only in its own store (onAssignment resumes from
   * it): nothing is committed to Kafka. For a reader of __consumer_offsets, whose own commits
   * would be records for it to read, and commit, again.
   */
  commitToKafka?: boolean;
  /** Linger: the broker holds a fetch until minBytes are there or maxWaitMs has passed. */
  linger?: { maxWaitMs: number; minBytes: number };
  /**
   * For work that does not depend on the order across partitions: the batches of partitions
   * handled at the same time (partitionsConsumedConcurrently) go to one handleBatch call, each
   * partition's messages in offset order; batches that arrive while a call runs go together in
   * the next one, up to maxBatchSize messages a call. A failure retries every batch of the call.
   */
  combinePartitions?: boolean;
  /**
   * With combinePartitions: how many handleBatch calls may be under way at once (default 1).
   * More than one lets the next call of a fetch get ready and start while the one before waits
   * for its database and broker; calls under way at once hold different partitions.
   */
  maxConcurrentCalls?: number;
}

export type ConsumerSpec<T> = MessageConsumerSpec<T> | BatchConsumerSpec<T>;

export interface ConsumerHandle {
  readonly groupId: string;
  /** True while the consumer is a member of its group. */
  isHealthy(): boolean;
  /** False once the consumer crashed and could not be restarted: the process should be. */
  isLive(): boolean;
  /** Stops fetching, lets in-flight messages finish and commit, then leaves the group. */
  stop(): Promise<void>;
  stats: ConsumerStats;
}

export interface ConsumerStats {
  received: number;
  processed: number;
  failed: number;
  sentToDlq: number;
  retries: number;
  /** Times the consumer was made anew after a crash kafkajs would not restart. */
  restarts: number;
  /** Offset commit requests sent (each for every partition with work done since the last). */
  commits: number;
}

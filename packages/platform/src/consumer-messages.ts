// Messages as handlers see them, and the consumer's way to the dead-letter topic: the original
// bytes and headers, the five dead-letter headers, sent once and retried while Kafka refuses.
import type { IHeaders, KafkaMessage } from 'kafkajs';
import type { Logger } from './logger';
import { deadLetterHeaders, InvalidMessageError, oversizeHeaders, type InboundMessage } from './dead-letter';
import type { MessageProducer } from './kafka';
import type { CommonSpec, ConsumerStats, DeadLetter } from './consumer-spec';

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function decodeHeaders(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers ?? {})) {
    if (v === undefined) continue;
    const first = Array.isArray(v) ? v[0] : v;
    out[k] = Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
  }
  return out;
}

/** The message as handlers see it. */
export function inbound(topic: string, partition: number, message: KafkaMessage): InboundMessage {
  return {
    topic,
    partition,
    offset: message.offset,
    key: message.key,
    value: message.value,
    headers: decodeHeaders(message.headers),
    rawHeaders: { ...(message.headers ?? {}) },
    timestamp: message.timestamp,
  };
}

export const asInvalid = (err: unknown) => (err instanceof InvalidMessageError ? err : new InvalidMessageError(err instanceof Error ? err.message : String(err)));

/** Kafka refused a record for its size: no retry can make it fit. */
const tooLarge = (err: unknown) => {
  const e = err as { type?: string; name?: string; cause?: { type?: string } } | undefined;
  return [e?.type, e?.cause?.type].some((t) => t === 'MESSAGE_TOO_LARGE' || t === 'RECORD_LIST_TOO_LARGE');
};

/** The consumer's dead-lettering: toDlq(entries) resolves once they are in the DLQ (and recorded). */
export function deadLettering({
  spec,
  dlqProducer,
  log,
  stats,
  isStopping,
}: {
  spec: Pick<CommonSpec<unknown>, 'dlqTopic' | 'onDeadLetters'>;
  dlqProducer: MessageProducer;
  log: Logger;
  stats: ConsumerStats;
  isStopping: () => boolean;
}): (entries: DeadLetter[]) => Promise<void> {
  // The original headers go along as they came (bytes, repeated values), plus the five (and attempts); all
  // the dead letters of a batch in one produce request, gzipped: the broker checks the
  // compressed size, so a record it took compressed fits the dead-letter topic the same way.
  const sendDeadLetters = async (entries: DeadLetter[]) => {
    const at = new Date();
    const record = (e: DeadLetter) => ({
      key: e.msg.key,
      value: e.msg.value,
      headers: { ...e.msg.rawHeaders, ...deadLetterHeaders(e.msg, e.error, at, e.attempts) },
    });
    try {
      await dlqProducer.send(spec.dlqTopic, entries.map(record), { compress: true });
    } catch (err) {
      if (!tooLarge(err)) throw err;
      // The dead-letter topic cannot take the bytes: each record goes on its own, and one that
      // still does not fit is recorded without its value, its size and digest in the headers.
      for (const e of entries) {
        try {
          await dlqProducer.send(spec.dlqTopic, [record(e)], { compress: true });
        } catch (one) {
          if (!tooLarge(one)) throw one;
          const r = record(e);
          await dlqProducer.send(spec.dlqTopic, [{ key: r.key, value: null, headers: { ...r.headers, ...oversizeHeaders(e.msg.value) } }]);
        }
      }
    }
  };
  /** Runs fn until it succeeds, waiting longer each time; a stopping consumer gives up. */
  const retrying = async (fn: () => Promise<void>, warn: (err: unknown, retryInMs: number) => void) => {
    for (let delay = 200; ; delay = Math.min(delay * 2, 5000)) {
      try {
        return await fn();
      } catch (err) {
        stats.retries += 1;
        warn(err, delay);
        if (isStopping()) throw err;
        await sleep(delay);
      }
    }
  };
  /** Dead-letters entries, retrying (with backoff) while Kafka refuses: a failing DLQ never stops the consumer. */
  const toDlq = async (entries: DeadLetter[]) => {
    if (entries.length === 0) return;
    // Sent once, then recorded: a record that fails is tried again alone, never the send.
    await retrying(
      () => sendDeadLetters(entries),
      (err, delay) => log.warn({ err, dlq: spec.dlqTopic, messages: entries.length, retryInMs: delay }, 'dead-letter topic refused the messages; retrying'),
    );
    const record = spec.onDeadLetters;
    if (record) {
      await retrying(
        () => record(entries),
        (err, delay) => log.warn({ err, messages: entries.length, retryInMs: delay }, 'dead letters sent but not recorded; retrying the record'),
      );
    }
    stats.failed += entries.length;
    stats.sentToDlq += entries.length;
    for (const { msg, error } of entries) {
      log.warn({ topic: msg.topic, partition: msg.partition, offset: msg.offset, dlq: spec.dlqTopic, error: error.message }, 'message sent to dead-letter topic');
    }
  };
  return toDlq;
}

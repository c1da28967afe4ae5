// What a dead-lettered message carries: the original bytes, the original headers, these five, and
// attempts when the work was tried.
import { createHash } from 'node:crypto';

/**
 * max.message.bytes of the dead-letter topics a service creates: room for a record the source
 * topic took at its limit (1 MB by default), plus the headers the dead letter adds.
 */
export const DLQ_MAX_MESSAGE_BYTES = 4 * 1024 * 1024;

export const DLQ_HEADERS = {
  topic: 'original-topic',
  partition: 'original-partition',
  offset: 'original-offset',
  error: 'error-message',
  timestamp: 'error-timestamp',
  attempts: 'attempts',
} as const;

export interface InboundMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values as UTF-8 text (the first of repeated ones). */
  headers: Record<string, string>;
  /** Header values as they came: bytes, repeated values kept. */
  rawHeaders: Record<string, Buffer | string | Array<Buffer | string> | undefined>;
  timestamp: string;
}

/** A message that can never be processed: it goes to the dead-letter topic, not back for retry. */
export class InvalidMessageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMessageError';
  }
}

/** attempts: how many times the work was tried before it was given up on; no header when not given (never tried). */
export function deadLetterHeaders(msg: Pick<InboundMessage, 'topic' | 'partition' | 'offset'>, err: Error, at: Date, attempts?: number): Record<string, string> {
  return {
    [DLQ_HEADERS.topic]: msg.topic,
    [DLQ_HEADERS.partition]: String(msg.partition),
    [DLQ_HEADERS.offset]: String(msg.offset),
    [DLQ_HEADERS.error]: err.message.slice(0, 2000),
    [DLQ_HEADERS.timestamp]: at.toISOString(),
    ...(attempts === undefined ? {} : { [DLQ_HEADERS.attempts]: String(attempts) }),
  };
}

/** For a record the dead-letter topic cannot hold: it goes without its value, saying what it was. */
export function oversizeHeaders(value: Buffer | null): Record<string, string> {
  return {
    'original-size': String(value?.length ?? 0),
    'original-sha256': createHash('sha256')
      .update(value ?? Buffer.alloc(0))
      .digest('hex'),
    'original-value-omitted': 'too large for the dead-letter topic',
  };
}

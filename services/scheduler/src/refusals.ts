// The ingest consumer's record of what it refused: GetJob answers REFUSED, with the reason,
// for a request the gateway published where a refused message was read.
import type { DeadLetter, Pool } from '@pipewright/platform';
import { recordRefusals } from './store';

/** The ingest consumer's DLQ hook: what it refused, by where it read it, with the request id when it has one. */
export function refusalRecorder(pool: Pool) {
  return (entries: DeadLetter[]) =>
    recordRefusals(
      pool,
      entries.map(({ msg, error }) => ({ partition: msg.partition, offset: msg.offset, requestId: storable(requestIdOf(msg.value)), reason: storable(error.message.slice(0, 2000)) })),
    );
}

/**
 * Text PostgreSQL can store: a NUL (which an error quoting the message's bytes may hold) is
 * refused by every text column, and the refusal would then never be recorded.
 */
function storable<T extends string | null>(text: T): T {
  return (text === null ? null : text.replaceAll('\0', '\\0')) as T;
}

function requestIdOf(value: Buffer | null): string | null {
  try {
    const id = (JSON.parse(value?.toString('utf8') ?? '') as { requestId?: unknown }).requestId;
    return typeof id === 'string' ? id : null;
  } catch {
    return null;
  }
}

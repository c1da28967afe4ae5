// The ingest consumer's record of what it refused: GetJob answers REFUSED, with the reason,
// for a request the gateway published where a refused message was read.
import { isUnavailable, type DeadLetter, type Logger, type Pool } from '@pipewright/platform';
import { recordRefusals } from './store';

/**
 * The ingest consumer's DLQ hook: what it refused, by where it read it, with the request id when
 * it has one. PostgreSQL away is retried (the consumer waits); any other failure is logged and
 * the refusals go unrecorded (GetJob then answers NOT_FOUND for them) rather than hold back the
 * intake.
 */
export function refusalRecorder(pool: Pool, logger: Logger) {
  return async (entries: DeadLetter[]) => {
    const refusals = entries.map(({ msg, error }) => ({ partition: msg.partition, offset: msg.offset, requestId: storable(requestIdOf(msg.value)), reason: storable(error.message.slice(0, 2000)) }));
    try {
      await recordRefusals(pool, refusals);
    } catch (err) {
      if (isUnavailable(err)) throw err;
      logger.error({ err, refusals: refusals.map((r) => ({ partition: r.partition, offset: r.offset })) }, 'refused job requests could not be recorded');
    }
  };
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

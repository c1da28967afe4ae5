// Sending the dead letters a batch decided (store.ts keeps them until they are sent): the
// original key, value and headers, byte for byte, plus the dead-letter headers and attempts.
import { deadLetterHeaders, type Logger, type MessageProducer } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import type { OrderMetrics } from './metrics';
import type { PendingDeadLetter } from './store';

export function deadLetterSender(producer: MessageProducer, metrics: OrderMetrics, logger: Logger) {
  return async (letters: PendingDeadLetter[]): Promise<void> => {
    const at = new Date();
    await producer.send(
      TOPICS.ordersDlq,
      letters.map((l) => ({
        key: l.key,
        value: l.value,
        headers: { ...l.headers, ...deadLetterHeaders({ topic: l.topic, partition: l.partition, offset: l.offset }, new Error(l.error), at, l.attempts) },
      })),
      { compress: true },
    );
    for (const l of letters) {
      metrics.deadLettered(l.reason);
      const orderId = l.orderId ?? l.key?.toString('utf8') ?? '(no key)';
      logger.warn({ orderId, partition: l.partition, offset: l.offset, attempts: l.attempts, reason: l.reason, error: l.error }, `Moved to DLQ: orderId ${orderId}`);
    }
  };
}

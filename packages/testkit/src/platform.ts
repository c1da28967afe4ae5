// The platform's Kafka client (what every service consumes and produces with) on a test file's
// Kafka, for tests of the consumer runner and the producer themselves.
import type { KafkaClient, MessageProducer } from '@pipewright/platform';
import { startInfrastructure, type Infrastructure } from './infrastructure.js';

export interface PlatformKafka {
  infra: Infrastructure;
  client: KafkaClient;
  /** A producer of `client`'s, for the consumers' dead letters and the test's own messages. */
  producer: MessageProducer;
  /** Disconnects the producer and stops what was started of Kafka and PostgreSQL. */
  stop(): Promise<void>;
}

/**
 * A KafkaClient and a producer on the brokers of startInfrastructure(): KAFKA_BROKERS, or a
 * broker started for this file. `partitions`: topics' default partitions. The client logs at
 * TEST_LOG's level (default fatal: nothing).
 */
export async function startKafkaClient(clientId: string, { partitions }: { partitions: number }): Promise<PlatformKafka> {
  // Loaded here, so that tests which do not use it do not load the platform.
  const { KafkaClient, createLogger } = await import('@pipewright/platform');
  const infra = await startInfrastructure();
  try {
    const client = new KafkaClient({ brokers: infra.brokers.split(','), clientId, partitions }, createLogger('test', process.env.TEST_LOG ?? 'fatal'));
    const producer = await client.producer();
    return {
      infra,
      client,
      producer,
      async stop() {
        await producer.disconnect();
        await infra.stop();
      },
    };
  } catch (err) {
    await infra.stop();
    throw err;
  }
}

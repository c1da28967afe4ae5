// A stack for the order tests: the aggregator's group moved to the end of `orders` first (the
// run's stacks share one broker), a producer for orders written straight to Kafka, and a tap on
// orders-dlq.
import type { Producer } from 'kafkajs';
import { TOPICS } from '@pipewright/contracts';
import { startStack, type Stack, type StackOptions } from './stack.js';
import { groupsToEnd, tapTopic, type Tap } from './topics.js';

/** The order-aggregator's consumer group and the topic it reads. */
export const ORDER_GROUP = { groupId: 'order-aggregator', topic: TOPICS.orders };

export interface OrderStack {
  stack: Stack;
  producer: Producer;
  /** Everything sent to orders-dlq since the stack started. */
  dlq: Tap;
  stop(): Promise<void>;
}

/** A stack (options as startStack's) whose `services` start after the aggregator's group is moved to the end. */
export async function startOrderStack({ services = [], ...options }: StackOptions = {}): Promise<OrderStack> {
  const stack = await startStack(options);
  const opened: Array<() => Promise<void>> = [];
  const stop = async () => {
    for (const close of opened.reverse()) await close();
    await stack.stop();
  };
  try {
    await groupsToEnd(stack.kafka, [ORDER_GROUP]);
    const dlq = await tapTopic(stack.kafka, TOPICS.ordersDlq);
    opened.push(() => dlq.stop());
    const producer = stack.kafka.producer();
    await producer.connect();
    opened.push(() => producer.disconnect());
    for (const s of services) await stack.start(s);
    return { stack, producer, dlq, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

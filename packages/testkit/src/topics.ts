// Reading what services publish: taps on topics from their current end.
import { randomBytes } from 'node:crypto';
import type { Kafka, KafkaMessage } from 'kafkajs';
import { eventually } from './wait.js';

/** A message a tap received, with its partition and its headers as text. */
export type TappedMessage = KafkaMessage & {
  partition: number;
  /** Its headers with a value, each value as text. */
  headersText: Record<string, string>;
};

export interface Tap {
  /** Every message published since the tap started, in the order received. */
  messages: TappedMessage[];
  stop(): Promise<void>;
}

/**
 * Reads a topic from its current end: returns a collector whose `messages` fill as they arrive.
 * Uses a fresh consumer group so earlier tests' messages are not seen. Creates the topic (12
 * partitions) when it does not exist yet.
 */
export async function tapTopic(kafka: Kafka, topic: string): Promise<Tap> {
  const admin = kafka.admin();
  await admin.connect();
  let offsets;
  try {
    if (!(await admin.listTopics()).includes(topic)) {
      await admin.createTopics({ topics: [{ topic, numPartitions: 12 }], waitForLeaders: true }).catch(() => undefined);
    }
    offsets = await eventually(() => admin.fetchTopicOffsets(topic), { timeoutMs: 20_000, message: `offsets of ${topic}` });
  } finally {
    await admin.disconnect();
  }
  const consumer = kafka.consumer({ groupId: `test-tap-${randomBytes(6).toString('hex')}` });
  const messages: TappedMessage[] = [];
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
  } catch (err) {
    await consumer.disconnect();
    throw err;
  }
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      const start = offsets.find((o) => o.partition === partition);
      if (start && BigInt(message.offset) < BigInt(start.offset)) return;
      const headersText: Record<string, string> = {};
      for (const [k, v] of Object.entries(message.headers ?? {})) if (v != null) headersText[k] = v.toString();
      messages.push({ partition, ...message, headersText });
    },
  });
  return { messages, stop: () => consumer.disconnect() };
}

/** A message's value read as JSON, or null when it has none or it is not JSON. */
export function messageJson<T = any>(message: { value: Buffer | null }): T | null {
  if (!message.value) return null;
  try {
    return JSON.parse(message.value.toString('utf8')) as T;
  } catch {
    return null;
  }
}

/** Whether a message's value holds exactly these bytes. */
export const sameBytes = (value: Buffer | null, bytes: Buffer | null): boolean => value !== null && bytes !== null && Buffer.compare(value, bytes) === 0;

/** An app (APPS_CONFIG entry) that publishes each job's jobData to `topic`: one message per execution. */
export const recordingApp = (topic: string) => ({ handler: 'kafka.publish', options: { topic } });

/** Counts the messages a recording app published, per jobData.i of a label. */
export function executionsPerJob(messages: ReadonlyArray<{ value: Buffer | null }>, label: string): Map<number, number> {
  const perJob = new Map<number, number>();
  for (const m of messages) {
    const data = messageJson<{ label?: string; i: number }>(m);
    if (data?.label === label) perJob.set(data.i, (perJob.get(data.i) ?? 0) + 1);
  }
  return perJob;
}

/**
 * Moves consumer groups to the end of their topics (the groups must have no member running):
 * every stack of a run shares the broker, so services started after this read only what is
 * produced from now on, not what earlier stacks left unread. A topic that does not exist yet
 * holds nothing to skip.
 */
export async function groupsToEnd(kafka: Kafka, groups: Array<{ groupId: string; topic: string }>): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const topics = new Set(await admin.listTopics());
    // Each setOffsets joins the group for a moment (seconds): the groups are moved at the same
    // time, the topics of one group one after another.
    const byGroup = new Map<string, string[]>();
    for (const { groupId, topic } of groups) if (topics.has(topic)) byGroup.set(groupId, [...(byGroup.get(groupId) ?? []), topic]);
    await Promise.all(
      [...byGroup].map(async ([groupId, groupTopics]) => {
        for (const topic of groupTopics) {
          // A topic created a moment ago may not answer for its partitions yet: tried again until it does.
          await eventually(
            async () => {
              const ends = await admin.fetchTopicOffsets(topic);
              await admin.setOffsets({ groupId, topic, partitions: ends.map((e) => ({ partition: e.partition, offset: e.high })) });
              return true;
            },
            { timeoutMs: 60_000, intervalMs: 500, message: `${groupId} moved to the end of ${topic}` },
          );
        }
      }),
    );
  } finally {
    await admin.disconnect();
  }
}

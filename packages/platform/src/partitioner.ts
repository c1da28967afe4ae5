// The partition of a message, as Apache Kafka's Java client chooses it (its default
// partitioner): murmur2 of the key modulo the partition count; a message without a key goes
// round robin over the partitions that have a leader. The same choice as kafkajs's
// DefaultPartitioner, in 32-bit integer arithmetic and without its per-message allocations.
import type { PartitionerArgs } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 hash of the key's bytes (org.apache.kafka.common.utils.Utils.murmur2). */
export function murmur2(data: Buffer): number {
  const length = data.length;
  let h = SEED ^ length;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = data[i4] | (data[i4 + 1] << 8) | (data[i4 + 2] << 16) | (data[i4 + 3] << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  // The last one to three bytes.
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= data[tail + 2] << 16;
  if (rest >= 2) h ^= data[tail + 1] << 8;
  if (rest >= 1) h = Math.imul(h ^ data[tail], M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}

/** A kafkajs partitioner that chooses as the Java client does. */
export function javaCompatiblePartitioner(): (args: PartitionerArgs) => number {
  const counters = new Map<string, number>();
  return ({ topic, partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined) {
      const key = Buffer.isBuffer(message.key) ? message.key : Buffer.from(String(message.key));
      return (murmur2(key) & 0x7fffffff) % partitionMetadata.length;
    }
    const next = ((counters.get(topic) ?? Math.floor(Math.random() * 0x7fffffff)) + 1) & 0x7fffffff;
    counters.set(topic, next);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    if (available.length > 0) return available[next % available.length].partitionId;
    return next % partitionMetadata.length;
  };
}

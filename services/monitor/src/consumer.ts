// What the monitor consumes, a fetched batch of one partition at a time:
//   - __consumer_offsets: every group's commits, into their windows (store.ts), with the
//     position read kept in the same transaction (nothing is committed to Kafka there);
//   - the DLQ topics: every dead letter, stored with its bytes, and as a recent error;
//   - jobs.status (FAILED and DEAD runs) and the pipeline's error topics: recent errors.
// The pipeline's run progress is consumed by pipeline/.
import { TOPICS, decodeRunStatus, parseJson } from '@pipewright/contracts';
import { withTransaction, type BatchItem, type InboundMessage, type Logger, type Pool, type PoolClient } from '@pipewright/platform';
import { CONSUMER_OFFSETS_TOPIC, decodeOffsetRecord, type OffsetRecord } from './offsets';
import { deadLetterRow, idsOf, serviceOf, storable, type PayloadDecoder } from './dead-letters';
import {
  advanceOffsetsPosition,
  deleteWindows,
  insertDeadLetters,
  insertRecentErrors,
  latestCommits,
  lockOffsetsPosition,
  offsetsPositions,
  trimWindows,
  upsertCommits,
  type CommitRow,
  type PartitionKey,
  type RecentErrorRow,
} from './store';
import type { LagTracker } from './lag';
import type { Config } from './config';

type Batch = Array<BatchItem<InboundMessage>>;

const PIPEWRIGHT_TOPICS = new Set<string>(Object.values(TOPICS));
const keyOf = (k: PartitionKey) => `${k.group}\u0000${k.topic}\u0000${k.partition}`;

/** Where each assigned partition of __consumer_offsets resumes: the position PostgreSQL holds. */
export function resumeOffsets(pool: Pool) {
  return async (partitions: Array<{ topic: string; partition: number }>) => {
    const stored = await offsetsPositions(
      pool,
      partitions.map((p) => p.partition),
    );
    return stored.map((r) => ({ topic: CONSUMER_OFFSETS_TOPIC, partition: r.part, offset: r.next_offset }));
  };
}

/**
 * Adds commits to their partitions' windows, Burrow's way: a commit older than the window's
 * latest is dropped, one within minDistanceMs of it replaces it (keeping its time), any other
 * is added; the window keeps its newest `window` commits. A deletion forgets the window.
 */
async function applyCommits(client: PoolClient, records: OffsetRecord[], lag: LagTracker, config: Config): Promise<void> {
  const keys = new Map<string, PartitionKey>();
  for (const r of records) keys.set(keyOf(r), { group: r.group, topic: r.topic, partition: r.partition });
  const latest = new Map((await latestCommits(client, [...keys.values()])).map((c) => [keyOf(c), c]));
  const deleted = new Map<string, PartitionKey>();
  const writes = new Map<string, CommitRow>();
  for (const r of records) {
    const key = keyOf(r);
    if (r.kind === 'delete') {
      latest.delete(key);
      deleted.set(key, r);
      for (const [k, w] of writes) if (keyOf(w) === key) writes.delete(k);
      continue;
    }
    if (r.offset < 0n) continue;
    const prev = latest.get(key);
    if (prev && r.commitTime < prev.timeMs) continue;
    const end = lag.endAt(r.topic, r.partition, r.commitTime);
    const row: CommitRow = {
      group: r.group,
      topic: r.topic,
      partition: r.partition,
      timeMs: prev && r.commitTime - prev.timeMs < config.MONITOR_LAG_MIN_DISTANCE ? prev.timeMs : r.commitTime,
      committed: r.offset,
      lag: end === undefined ? null : Math.max(0, end - Number(r.offset)),
    };
    writes.set(`${key}\u0000${row.timeMs}`, row);
    latest.set(key, row);
  }
  await deleteWindows(client, [...deleted.values()]);
  await upsertCommits(client, [...writes.values()]);
  await trimWindows(client, [...new Map([...writes.values()].map((w) => [keyOf(w), w])).values()], config.MONITOR_LAG_WINDOW);
}

/** The batch handler of __consumer_offsets. */
export function handleCommits(deps: { pool: Pool; lag: LagTracker; config: Config }) {
  const { pool, lag, config } = deps;
  return async (items: Batch): Promise<void> => {
    const partition = items[0].msg.partition;
    const decoded = items.map(({ msg }) => ({ offset: BigInt(msg.offset), r: decodeOffsetRecord(msg.key, msg.value) }));
    const wanted = decoded.filter((d) => d.r && (config.MONITOR_LAG_ALL_GROUPS || PIPEWRIGHT_TOPICS.has(d.r.topic)));
    // A group's first commit on a topic not read yet: its end offset is read first, to measure the lag against.
    await lag.readTopics([...new Set(wanted.map((d) => (d.r as OffsetRecord).topic))]);
    await withTransaction(pool, async (client) => {
      const from = await lockOffsetsPosition(client, partition);
      const records = wanted.filter((d) => d.offset >= from).map((d) => d.r as OffsetRecord);
      const next = BigInt(items[items.length - 1].msg.offset) + 1n;
      if (next <= from) return;
      await applyCommits(client, records, lag, config);
      await advanceOffsetsPosition(client, partition, next);
    });
  };
}

/** The batch handler of the DLQ topics: each dead letter stored, and as a recent error. */
export function handleDeadLetters(deps: { pool: Pool; payloads: PayloadDecoder }) {
  const { pool, payloads } = deps;
  return async (items: Batch): Promise<void> => {
    const rows = items.map((i) => deadLetterRow(i.msg));
    const errors: RecentErrorRow[] = [];
    for (const d of rows) {
      const payload = await payloads.decode(d.value, [d.original_topic, d.dlq_topic]);
      errors.push({
        at: d.error_at ?? d.dead_at,
        service: serviceOf(d.dlq_topic, d.original_topic),
        topic: d.dlq_topic,
        part: d.part,
        off: d.off,
        message: d.error_message ?? '(no error-message header)',
        dead_letter: true,
        ...idsOf('json' in payload ? payload.json : undefined),
      });
    }
    await withTransaction(pool, async (client) => {
      const inserted = new Set((await insertDeadLetters(client, rows)).map((r) => `${r.dlq_topic}/${r.part}/${r.off}`));
      await insertRecentErrors(
        client,
        errors.filter((e) => inserted.has(`${e.topic}/${e.part}/${e.off}`)),
      );
    });
  };
}

/** A recent error from a run status event (FAILED or DEAD) or an error topic's message; undefined for anything else. */
function errorOf(msg: InboundMessage): RecentErrorRow | undefined {
  const base = { service: serviceOf(msg.topic), topic: msg.topic, part: msg.partition, off: msg.offset, dead_letter: false };
  try {
    if (msg.topic === TOPICS.jobsStatus) {
      const e = decodeRunStatus(msg.value);
      if (e.status !== 'FAILED' && e.status !== 'DEAD') return undefined;
      const message = `${e.status} (attempt ${e.attempt}): ${e.error ?? 'no error given'}`;
      return { ...base, at: new Date(e.at), message, ...idsOf(e) };
    }
    const o = parseJson(msg.value);
    const where = typeof o.region === 'string' ? `region ${o.region}` : typeof o.symbol === 'string' ? `symbol ${o.symbol}` : '';
    const error = typeof o.error === 'string' ? o.error : 'no error given';
    return { ...base, at: new Date(Number(msg.timestamp)), message: where ? `${where}: ${error}` : error, ...idsOf(o) };
  } catch {
    return undefined;
  }
}

/** The batch handler of jobs.status and the error topics. */
export function handleErrorEvents(deps: { pool: Pool; logger: Logger }) {
  return async (items: Batch): Promise<void> => {
    const errors = items
      .map((i) => errorOf(i.msg))
      .filter((e): e is RecentErrorRow => e !== undefined)
      .map((e) => ({ ...e, message: storable(e.message) }));
    await insertRecentErrors(deps.pool, errors);
    if (errors.length) deps.logger.debug({ errors: errors.length, topic: items[0].msg.topic }, 'recent errors stored');
  };
}

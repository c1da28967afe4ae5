// pipewright.monitor.v1.Monitor: consumer lag (ListConsumerGroups, GetConsumerLag and the
// WatchConsumerLag stream), dead letters (GetDlqCounts, ListDeadLetters, ReplayDeadLetters),
// ListRecentErrors and GetOverview. Each calls the lag tracker, the health watcher, the
// dead-letter functions and store.ts, never SQL. The pipeline's methods are in pipeline/.
import {
  decodePageToken,
  encodePageToken,
  grpc,
  invalidArgument,
  notFound,
  pageSizeOf,
  parseDuration,
  toStatus,
  unary,
  type CallCredentials,
  type Logger,
  type MessageProducer,
  type Pool,
} from '@pipewright/platform';
import { monitorV1 } from '@pipewright/proto';
import type { GroupStatus, PartitionStatus } from './burrow';
import { DLQ_TOPICS, replayDeadLetters, type PayloadDecoder, type ReplayOutcome } from './dead-letters';
import type { GroupLagView, LagTracker } from './lag';
import { jobsByStatus, type HealthWatcher } from './overview';
import { dlqCounts, listDeadLetters, listRecentErrors, type ReplayRow, type StoredDeadLetter } from './store';
import type { Config } from './config';

const { LagStatus, PayloadEncoding, HealthState } = monitorV1;
const DAY_MS = 86_400_000;
const MAX_REPLAY = 10_000;
const TOP_ERRORS = 20;

export interface MonitorDeps {
  pool: Pool;
  lag: LagTracker;
  health: HealthWatcher;
  /** Credentials of the monitor's own calls to the other services. */
  calls: CallCredentials;
  payloads: PayloadDecoder;
  producer: MessageProducer;
  config: Config;
  logger: Logger;
  /** Ends the WatchConsumerLag streams when the service stops. */
  watches: Set<() => void>;
  /** Stock runs not complete yet, once the pipeline's progress can say. */
  activeStockRuns?: () => Promise<number>;
}

const lagStatus = (s: PartitionStatus | GroupStatus): monitorV1.LagStatus => LagStatus[`LAG_STATUS_${s}`];

function toConsumerLag(g: GroupLagView, at: number): monitorV1.ConsumerLag {
  return {
    groupId: g.group,
    total: g.total,
    status: lagStatus(g.status),
    maxLag: g.maxLag,
    maxLagSeconds: g.maxLagSeconds,
    complete: g.complete,
    evaluatedAt: new Date(at),
    partitions: g.partitions.map((p) => ({
      topic: p.topic,
      partition: p.partition,
      lag: p.lag,
      committedOffset: p.committed,
      endOffset: p.end,
      lagSeconds: p.lagSeconds,
      status: lagStatus(p.status),
      lastCommitTime: new Date(p.lastCommit),
      commits: p.commits.map((c) => ({ offset: c.offset, time: new Date(c.time), lag: c.lag ?? -1 })),
    })),
  };
}

function toSummary(g: GroupLagView, described?: { state: string; members: number }): monitorV1.ConsumerGroupSummary {
  return {
    groupId: g.group,
    status: lagStatus(g.status),
    totalLag: g.total,
    maxLag: g.maxLag,
    maxLagSeconds: g.maxLagSeconds,
    topics: g.topics,
    partitions: g.partitions.length,
    state: described?.state ?? '',
    members: described?.members ?? 0,
  };
}

/** A page token of ListDeadLetters: the last dead letter of the page. */
type Token = { t: number; q: string; p: number; o: string };
const isToken = (v: unknown): v is Token => {
  const t = v as Token | null;
  return typeof t === 'object' && t !== null && Number.isFinite(t.t) && typeof t.q === 'string' && Number.isInteger(t.p) && /^\d+$/.test(String(t.o));
};
const pageToken = (d: StoredDeadLetter) => encodePageToken({ t: d.dead_at.getTime(), q: d.dlq_topic, p: d.part, o: d.off });

function dlqTopic(field: string, topic: string, required: boolean): string | undefined {
  if (!topic) {
    if (required) throw invalidArgument(field, `is required: one of ${DLQ_TOPICS.join(', ')}`);
    return undefined;
  }
  if (!DLQ_TOPICS.includes(topic)) throw invalidArgument(field, `must be one of ${DLQ_TOPICS.join(', ')}`);
  return topic;
}

function timeRange(from: Date | undefined, to: Date | undefined): void {
  if (from && to && from > to) throw invalidArgument('from', 'must not be after to');
}

const textOf = (b: Buffer) => {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return undefined;
  }
};

function toReplay(r: ReplayRow): monitorV1.Replay {
  return {
    state: r.state,
    targetTopic: r.target_topic,
    targetPartition: r.target_partition ?? -1,
    targetOffset: r.target_offset === null ? -1 : Number(r.target_offset),
    times: r.times,
    replayedAt: r.replayed_at,
    error: r.error ?? '',
  };
}

const ENCODING: Record<string, monitorV1.PayloadEncoding> = {
  json: PayloadEncoding.PAYLOAD_ENCODING_JSON,
  'avro-order': PayloadEncoding.PAYLOAD_ENCODING_AVRO_ORDER,
  binary: PayloadEncoding.PAYLOAD_ENCODING_BINARY,
  none: PayloadEncoding.PAYLOAD_ENCODING_NONE,
};

const OUTCOME: Record<ReplayOutcome, monitorV1.ReplayOutcome> = {
  sent: monitorV1.ReplayOutcome.REPLAY_OUTCOME_SENT,
  'already-replayed': monitorV1.ReplayOutcome.REPLAY_OUTCOME_ALREADY_REPLAYED,
  'no-target': monitorV1.ReplayOutcome.REPLAY_OUTCOME_NO_TARGET,
  'no-payload': monitorV1.ReplayOutcome.REPLAY_OUTCOME_NO_PAYLOAD,
  'not-found': monitorV1.ReplayOutcome.REPLAY_OUTCOME_NOT_FOUND,
  failed: monitorV1.ReplayOutcome.REPLAY_OUTCOME_FAILED,
};

async function toDeadLetter(d: StoredDeadLetter, payloads: PayloadDecoder): Promise<monitorV1.DeadLetter> {
  const payload = await payloads.decode(d.value, [d.original_topic, d.dlq_topic]);
  const headers = d.headers.map(([name, b64]) => {
    const bytes = Buffer.from(b64, 'base64');
    const text = textOf(bytes);
    return { name, value: text ?? b64, binary: text === undefined };
  });
  const omitted = d.headers.find(([name]) => name === 'original-size');
  return {
    dlqTopic: d.dlq_topic,
    partition: d.part,
    offset: Number(d.off),
    deadLetteredAt: d.dead_at,
    originalTopic: d.original_topic ?? '',
    originalPartition: d.original_partition ?? -1,
    originalOffset: d.original_offset === null ? -1 : Number(d.original_offset),
    errorMessage: d.error_message ?? '',
    errorTime: d.error_at ?? undefined,
    attempts: d.attempts ?? 0,
    key: d.key ?? Buffer.alloc(0),
    keyText: (d.key && textOf(d.key)) ?? '',
    headers,
    encoding: ENCODING[payload.encoding],
    json: 'json' in payload ? payload.json : undefined,
    raw: 'raw' in payload ? payload.raw : undefined,
    size: d.value?.length ?? Number(omitted ? Buffer.from(omitted[1], 'base64').toString() : 0),
    replay: d.replay ? toReplay(d.replay) : undefined,
  };
}

export function monitorHandlers(deps: MonitorDeps): Partial<monitorV1.MonitorServer> {
  const { pool, lag, health, payloads, producer, config, logger } = deps;

  const groupSummaries = async () => {
    const snap = await lag.snapshot();
    const described = await lag.describe(snap.groups.map((g) => g.group));
    return snap.groups.map((g) => toSummary(g, described.get(g.group)));
  };

  return {
    listConsumerGroups: unary(logger, async () => ({ groups: await groupSummaries() })),

    getConsumerLag: unary(logger, async (req: monitorV1.GetConsumerLagRequest) => {
      if (!req.groupId) throw invalidArgument('group_id', 'is required');
      const snap = await lag.snapshot();
      const g = snap.groups.find((x) => x.group === req.groupId);
      if (!g) throw notFound(`consumer group "${req.groupId}" (no commit of it read${config.MONITOR_LAG_ALL_GROUPS ? '' : " on pipewright's topics"})`);
      return toConsumerLag(g, snap.at);
    }),

    watchConsumerLag: (call: grpc.ServerWritableStream<monitorV1.WatchConsumerLagRequest, monitorV1.ConsumerLag>) => {
      const wanted = new Set(call.request.groupIds.filter(Boolean));
      const sent = new Map<string, string>();
      const timers: NodeJS.Timeout[] = [];
      const end = () => {
        for (const t of timers.splice(0)) clearInterval(t);
        deps.watches.delete(stop);
      };
      const stop = () => {
        end();
        call.end();
      };
      const send = async () => {
        const snap = await lag.snapshot();
        for (const g of snap.groups) {
          if (wanted.size && !wanted.has(g.group)) continue;
          const message = toConsumerLag(g, snap.at);
          // Changed figures, not a newer evaluation time, are what is sent again.
          const figures = JSON.stringify({ ...message, evaluatedAt: undefined });
          if (sent.get(g.group) === figures) continue;
          sent.set(g.group, figures);
          call.write(message);
        }
      };
      const fail = (err: unknown) => {
        end();
        call.emit('error', toStatus(err).status);
      };
      deps.watches.add(stop);
      call.on('cancelled', end);
      call.on('close', end);
      timers.push(setInterval(() => void send().catch(fail), config.MONITOR_LAG_INTERVAL));
      void send().catch(fail);
    },

    getDlqCounts: unary(logger, async (req: monitorV1.GetDlqCountsRequest) => {
      let bucketMs: number;
      try {
        bucketMs = parseDuration(req.bucket || '1h', 1000);
      } catch {
        throw invalidArgument('bucket', 'must be a duration of at least 1s, such as 5m or 1h');
      }
      const now = Date.now();
      const since = req.since ?? new Date(now - DAY_MS);
      if (since.getTime() > now) throw invalidArgument('since', 'must not be in the future');
      const first = Math.floor(since.getTime() / bucketMs) * bucketMs;
      if ((now - first) / bucketMs > 10_000) throw invalidArgument('bucket', 'makes more than 10000 buckets since `since`: take a wider bucket');
      const rows = await dlqCounts(pool, since, bucketMs, TOP_ERRORS);
      const ends = new Map(lag.topicEnds().map((t) => [t.topic, t]));
      const counts: Record<string, number> = {};
      const topics = DLQ_TOPICS.map((topic) => {
        const count = Number(rows.totals.find((t) => t.dlq_topic === topic)?.count ?? 0);
        counts[topic] = count;
        const perBucket = new Map(rows.overTime.filter((r) => r.dlq_topic === topic).map((r) => [r.bucket_ms, Number(r.count)]));
        const overTime: monitorV1.TimeBucket[] = [];
        for (let t = first; t <= now; t += bucketMs) overTime.push({ start: new Date(t), count: perBucket.get(t) ?? 0 });
        const t = ends.get(topic);
        return {
          topic,
          depth: t ? t.end - t.start : 0,
          count,
          byError: rows.byError.filter((r) => r.dlq_topic === topic).map((r) => ({ errorMessage: r.error_message ?? '', count: Number(r.count) })),
          overTime,
        };
      });
      return { counts, topics };
    }),

    listDeadLetters: unary(logger, async (req: monitorV1.ListDeadLettersRequest) => {
      const topic = dlqTopic('dlq_topic', req.dlqTopic, false);
      const limit = pageSizeOf(req.pageSize, 500, 50);
      timeRange(req.from, req.to);
      const after = decodePageToken(req.pageToken, isToken);
      const rows = await listDeadLetters(pool, {
        dlqTopic: topic,
        originalTopic: req.originalTopic || undefined,
        errorContains: req.errorContains || undefined,
        from: req.from,
        to: req.to,
        limit: limit + 1,
        after: after && { deadAt: new Date(after.t), topic: after.q, part: after.p, off: after.o },
      });
      const page = rows.slice(0, limit);
      return {
        deadLetters: await Promise.all(page.map((d) => toDeadLetter(d, payloads))),
        nextPageToken: rows.length > limit ? pageToken(page[page.length - 1]) : '',
      };
    }),

    replayDeadLetters: unary(logger, async (req: monitorV1.ReplayDeadLettersRequest) => {
      const topic = dlqTopic('dlq_topic', req.dlqTopic, true) as string;
      if (req.maxMessages < 0 || req.maxMessages > MAX_REPLAY) throw invalidArgument('max_messages', `must be from 0 to ${MAX_REPLAY}`);
      if (req.messages.length > MAX_REPLAY) throw invalidArgument('messages', `at most ${MAX_REPLAY} at a time`);
      if (req.ratePerSecond < 0 || req.ratePerSecond > 100_000) throw invalidArgument('rate_per_second', 'must be from 0 to 100000');
      if (req.messages.some((m) => m.partition < 0 || m.offset < 0)) throw invalidArgument('messages', 'partitions and offsets must not be negative');
      timeRange(req.from, req.to);
      if (req.targetTopic) {
        const exists = await lag.withAdmin(async (admin) => (await admin.listTopics()).includes(req.targetTopic));
        if (!exists) throw invalidArgument('target_topic', `no topic "${req.targetTopic}" exists`);
      }
      const results = await replayDeadLetters(
        { pool, producer },
        {
          dlqTopic: topic,
          refs: req.messages.map((m) => ({ part: m.partition, off: String(m.offset) })),
          filter: { originalTopic: req.originalTopic || undefined, errorContains: req.errorContains || undefined, from: req.from, to: req.to },
          limit: req.maxMessages || 1000,
          targetTopic: req.targetTopic || undefined,
          ratePerSecond: req.ratePerSecond || config.MONITOR_REPLAY_RATE,
          force: req.force,
        },
      );
      const count = (o: ReplayOutcome) => results.filter((r) => r.outcome === o).length;
      if (results.length) logger.info({ dlq: topic, sent: count('sent'), failed: count('failed'), considered: results.length, force: req.force }, 'dead letters replayed');
      return {
        replayed: count('sent'),
        failed: count('failed'),
        skipped: results.length - count('sent') - count('failed'),
        results: results.map((r) => ({
          partition: r.part,
          offset: Number(r.off),
          outcome: OUTCOME[r.outcome],
          targetTopic: r.targetTopic,
          targetPartition: r.targetPartition ?? -1,
          targetOffset: r.targetOffset === undefined ? -1 : Number(r.targetOffset),
          detail: r.detail,
          previous: r.previous ? toReplay(r.previous) : undefined,
        })),
      };
    }),

    listRecentErrors: unary(logger, async (req: monitorV1.ListRecentErrorsRequest) => {
      if (req.limit < 0 || req.limit > config.MONITOR_RECENT_ERRORS) throw invalidArgument('limit', `must be from 0 to ${config.MONITOR_RECENT_ERRORS} (MONITOR_RECENT_ERRORS)`);
      const rows = await listRecentErrors(pool, req.limit || 50, req.service || undefined);
      return {
        errors: rows.map((e) => ({
          service: e.service,
          time: e.at,
          message: e.message,
          topic: e.topic,
          partition: e.part,
          offset: Number(e.off),
          jobId: e.job_id ?? '',
          runId: e.run_id ?? '',
          requestId: e.request_id ?? '',
          orderId: e.order_id ?? '',
          stockRunId: e.stock_run_id ?? '',
          deadLetter: e.dead_letter,
        })),
      };
    }),

    getOverview: unary(logger, async () => {
      const timeoutMs = Math.min(3000, config.MONITOR_HEALTH_INTERVAL);
      const scheduler = health.address('scheduler');
      const [groups, jobs, activeStockRuns] = await Promise.all([
        groupSummaries(),
        scheduler
          ? jobsByStatus(scheduler, timeoutMs, deps.calls).then(
              (m) => ({ counts: Object.fromEntries(m), error: '' }),
              (err: grpc.ServiceError) => ({ counts: {}, error: `the scheduler at ${scheduler} did not answer: ${err.details || err.message}` }),
            )
          : { counts: {}, error: 'no scheduler in MONITOR_SERVICES' },
        deps.activeStockRuns?.(),
      ]);
      const ends = lag.topicEnds();
      return {
        services: health.services().map((s) => ({
          service: s.service,
          state: HealthState[`HEALTH_STATE_${s.state}`],
          replicas: s.replicas.length,
          serving: s.replicas.filter((r) => r.status === 'SERVING').length,
          replicaHealth: s.replicas,
        })),
        topics: ends.map((t) => ({ topic: t.topic, messagesPerSecond: t.rate, endOffset: t.end, partitions: t.partitions })),
        totalLag: groups.reduce((n, g) => n + g.totalLag, 0),
        dlqDepths: Object.fromEntries(ends.filter((t) => DLQ_TOPICS.includes(t.topic)).map((t) => [t.topic, t.end - t.start])),
        jobsByStatus: jobs.counts,
        jobsError: jobs.error,
        activeStockRuns,
        groups,
        generatedAt: new Date(),
      };
    }),
  };
}

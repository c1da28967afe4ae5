// Dead letters: which topics are DLQs, what a DLQ record says (the dead-letter headers, the ids
// its payload names), its payload decoded for display, and replay: dead letters sent again to
// the topic they came from, at a rate, each carrying pipewright-replayed-from, each recorded in
// PostgreSQL before it is sent so that no dead letter is replayed twice without force.
import { SERVICES, TOPICS, olderOrderSchemas, orderSchema, type Order } from '@pipewright/contracts';
import { DLQ_HEADERS, avroCodec, oversizeHeaders, type AvroCodec, type InboundMessage, type MessageProducer, type Pool } from '@pipewright/platform';
import { claimReplays, deadLettersAt, finishReplays, matchingDeadLetters, type DeadLetterFilter, type DeadLetterRow, type ReplayRow, type StoredDeadLetter } from './store';

/** Every DLQ topic of pipewright: the topics named `<something>.dlq` or `<something>-dlq`. */
export const DLQ_TOPICS: readonly string[] = Object.values(TOPICS).filter((t) => /[.-]dlq$/.test(t));

/** The header a replayed message carries, once per replay: `<dlq topic>/<partition>/<offset>`. */
export const REPLAYED_FROM = 'pipewright-replayed-from';

const OMITTED = 'original-value-omitted';
/** Headers the DLQ added: a replayed message goes without them (the consumer adds them again if it fails again). */
const DLQ_ONLY = new Set<string>([...Object.values(DLQ_HEADERS), ...Object.keys(oversizeHeaders(null))]);

/**
 * The service that wrote a record to a topic: for a dead letter, the consumer of the topic it
 * came from; else the producer of the topic (packages/contracts/services.json).
 */
export function serviceOf(topic: string, originalTopic?: string | null): string {
  const consumer = originalTopic ? SERVICES.find((s) => s.consumes.includes(originalTopic) && s.produces.includes(topic)) : undefined;
  return (consumer ?? SERVICES.find((s) => s.produces.includes(topic)))?.name ?? 'unknown';
}

/** Text PostgreSQL can hold: it refuses NUL characters (a header may quote the bytes it could not read). */
export const storable = (s: string) => s.replaceAll('\u0000', '\uFFFD');
const header = (s: string | undefined) => (s === undefined ? null : storable(s));
const int = (s: string | undefined) => (s !== undefined && /^-?\d+$/.test(s) ? Number(s) : null);
const time = (s: string | undefined) => (s && !Number.isNaN(Date.parse(s)) ? new Date(s) : null);

/** A DLQ record as the monitor stores it. */
export function deadLetterRow(msg: InboundMessage): DeadLetterRow {
  const headers: Array<[string, string]> = [];
  for (const [name, v] of Object.entries(msg.rawHeaders)) {
    for (const one of Array.isArray(v) ? v : v === undefined ? [] : [v]) headers.push([name, (Buffer.isBuffer(one) ? one : Buffer.from(one)).toString('base64')]);
  }
  const h = msg.headers;
  return {
    dlq_topic: msg.topic,
    part: msg.partition,
    off: msg.offset,
    dead_at: new Date(Number(msg.timestamp)),
    original_topic: header(h[DLQ_HEADERS.topic]),
    original_partition: int(h[DLQ_HEADERS.partition]),
    original_offset: int(h[DLQ_HEADERS.offset]) === null ? null : h[DLQ_HEADERS.offset],
    error_message: header(h[DLQ_HEADERS.error]),
    error_at: time(h[DLQ_HEADERS.timestamp]),
    attempts: int(h[DLQ_HEADERS.attempts]),
    key: msg.key,
    value: msg.value,
    headers,
  };
}

export type Payload = { encoding: 'json' | 'avro-order'; json: unknown } | { encoding: 'binary'; raw: Buffer } | { encoding: 'none' };

/** Shows payloads: JSON as JSON, orders (Avro, plain or in the Confluent framing) as their fields, anything else as bytes. */
export class PayloadDecoder {
  private constructor(
    private readonly plain: AvroCodec<Order>,
    private readonly framed?: AvroCodec<Order>,
  ) {}

  static async create(registryUrl?: string): Promise<PayloadDecoder> {
    const options = { schema: orderSchema, olderSchemas: olderOrderSchemas, subject: `${TOPICS.orders}-value` };
    return new PayloadDecoder(await avroCodec<Order>(options), registryUrl ? await avroCodec<Order>({ ...options, registryUrl }) : undefined);
  }

  private async order(value: Buffer): Promise<Order | undefined> {
    for (const codec of [this.framed, this.plain]) {
      if (!codec) continue;
      try {
        await codec.load([value]);
        return codec.decode(value);
      } catch {
        // not in this framing (or the registry is away): the next, or bytes
      }
    }
    return undefined;
  }

  async decode(value: Buffer | null, topics: Array<string | null>): Promise<Payload> {
    if (value === null) return { encoding: 'none' };
    if (topics.some((t) => t === TOPICS.orders || t === TOPICS.ordersDlq)) {
      const order = await this.order(value);
      if (order) return { encoding: 'avro-order', json: order };
    }
    const json = parseJson(value);
    return json === undefined ? { encoding: 'binary', raw: value } : { encoding: 'json', json };
  }
}

function parseJson(value: Buffer): unknown {
  const text = new TextDecoder('utf-8', { fatal: true });
  try {
    return JSON.parse(text.decode(value)) as unknown;
  } catch {
    return undefined;
  }
}

export interface Ids {
  job_id: string | null;
  run_id: string | null;
  request_id: string | null;
  order_id: string | null;
  stock_run_id: string | null;
}

/**
 * The ids a payload names: a job request's requestId, a run's runId and jobId, an order's
 * orderId, a market-data task's runId (the stock run: its messages name no jobId).
 */
export function idsOf(payload: unknown): Ids {
  const o = typeof payload === 'object' && payload !== null ? (payload as Record<string, unknown>) : {};
  const text = (k: string) => {
    const v = o[k];
    return typeof v === 'string' && v ? storable(v) : null;
  };
  const jobId = text('jobId');
  return { job_id: jobId, run_id: jobId ? text('runId') : null, request_id: text('requestId'), order_id: text('orderId'), stock_run_id: jobId ? null : text('runId') };
}

// --- replay

export type ReplayOutcome = 'sent' | 'already-replayed' | 'no-target' | 'no-payload' | 'not-found' | 'failed';

export interface ReplayResult {
  part: number;
  off: string;
  outcome: ReplayOutcome;
  targetTopic: string;
  targetPartition?: number;
  targetOffset?: string;
  detail: string;
  previous?: ReplayRow;
}

export interface ReplayRequest {
  dlqTopic: string;
  /** Chosen dead letters; when empty, those matching the filter. */
  refs: Array<{ part: number; off: string }>;
  filter: DeadLetterFilter;
  limit: number;
  /** Default: each one's original-topic header. */
  targetTopic?: string;
  ratePerSecond: number;
  force: boolean;
}

const sleepFor = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The headers a replayed message carries: its own (those the DLQ added left out), and one more pipewright-replayed-from. */
function replayHeaders(d: DeadLetterRow): Record<string, Buffer[]> {
  const out: Record<string, Buffer[]> = {};
  for (const [name, value] of d.headers) if (!DLQ_ONLY.has(name)) (out[name] ??= []).push(Buffer.from(value, 'base64'));
  (out[REPLAYED_FROM] ??= []).push(Buffer.from(`${d.dlq_topic}/${d.part}/${d.off}`));
  return out;
}

const refKey = (r: { part: number; off: string }) => `${r.part}/${r.off}`;

/**
 * Replays dead letters, a chunk at a time (a tenth of the rate, so that the pace is even): each
 * chunk is recorded as `sending`, sent in one produce request per target topic, then recorded
 * as `sent` with where it went (or `failed`, and the replay stops there). Returns one result
 * per dead letter considered: in the order asked for, or the order sent in.
 */
export async function replayDeadLetters(deps: { pool: Pool; producer: MessageProducer; sleep?: (ms: number) => Promise<void> }, req: ReplayRequest): Promise<ReplayResult[]> {
  const results = await replay(deps, req);
  if (req.refs.length === 0) return results;
  // Chosen dead letters: their results in the order they were asked for.
  const order = new Map(req.refs.map((r, i) => [refKey(r), i]));
  return results.sort((a, b) => (order.get(refKey(a)) ?? 0) - (order.get(refKey(b)) ?? 0));
}

async function replay(deps: { pool: Pool; producer: MessageProducer; sleep?: (ms: number) => Promise<void> }, req: ReplayRequest): Promise<ReplayResult[]> {
  const { pool, producer } = deps;
  const sleep = deps.sleep ?? sleepFor;
  const results: ReplayResult[] = [];
  let rows: StoredDeadLetter[];
  if (req.refs.length) {
    const found = new Map((await deadLettersAt(pool, req.dlqTopic, req.refs)).map((d) => [refKey(d), d]));
    rows = [];
    for (const ref of req.refs) {
      const d = found.get(refKey(ref));
      if (d) rows.push(d);
      else
        results.push({
          ...ref,
          outcome: 'not-found',
          targetTopic: '',
          detail: `${req.dlqTopic} has no dead letter at partition ${ref.part} offset ${ref.off} (or it is older than MONITOR_DLQ_RETENTION)`,
        });
    }
  } else {
    rows = await matchingDeadLetters(pool, { ...req.filter, dlqTopic: req.dlqTopic, limit: req.limit });
  }
  const chunkSize = Math.min(500, Math.max(1, Math.ceil(req.ratePerSecond / 10)));
  const started = Date.now();
  let sent = 0;
  for (let i = 0; i < rows.length; i += chunkSize) {
    const due = started + (sent * 1000) / req.ratePerSecond;
    if (Date.now() < due) await sleep(due - Date.now());
    const ready: Array<{ d: StoredDeadLetter; target: string }> = [];
    for (const d of rows.slice(i, i + chunkSize)) {
      const target = req.targetTopic || d.original_topic || '';
      const base = { part: d.part, off: d.off, targetTopic: target };
      if (!target) results.push({ ...base, outcome: 'no-target', detail: 'it has no original-topic header: name a target_topic' });
      else if (d.value === null && d.headers.some(([name]) => name === OMITTED)) results.push({ ...base, outcome: 'no-payload', detail: 'its payload was too large for the DLQ and was not kept' });
      else if (d.replay && !req.force) results.push({ ...base, outcome: 'already-replayed', detail: 'replayed before: replay again with force', previous: d.replay });
      else ready.push({ d, target });
    }
    const claimed = await claimReplays(
      pool,
      req.dlqTopic,
      ready.map(({ d, target }) => ({ part: d.part, off: d.off, target })),
      req.force,
    );
    const byTarget = new Map<string, StoredDeadLetter[]>();
    for (const { d, target } of ready) {
      if (!claimed.has(refKey(d))) {
        results.push({ part: d.part, off: d.off, outcome: 'already-replayed', targetTopic: target, detail: 'another replay recorded it first' });
        continue;
      }
      const list = byTarget.get(target);
      if (list) list.push(d);
      else byTarget.set(target, [d]);
    }
    const targets = [...byTarget];
    for (const [n, [target, list]] of targets.entries()) {
      try {
        const out = await producer.send(
          target,
          list.map((d) => ({ key: d.key, value: d.value, headers: replayHeaders(d) })),
        );
        await finishReplays(
          pool,
          req.dlqTopic,
          list.map((d, j) => ({ part: d.part, off: d.off, state: 'sent', targetPartition: out[j].partition, targetOffset: out[j].offset })),
        );
        list.forEach((d, j) => results.push({ part: d.part, off: d.off, outcome: 'sent', targetTopic: target, targetPartition: out[j].partition, targetOffset: out[j].offset, detail: '' }));
        sent += list.length;
      } catch (err) {
        // This request failed; those recorded with it for other topics are not sent either.
        const failed = targets.slice(n).flatMap(([t, l]) => l.map((d) => ({ d, t, error: t === target ? (err as Error).message : `not sent: sending to ${target} failed first` })));
        await finishReplays(
          pool,
          req.dlqTopic,
          failed.map(({ d, error }) => ({ part: d.part, off: d.off, state: 'failed', error })),
        );
        for (const { d, t, error } of failed) results.push({ part: d.part, off: d.off, outcome: 'failed', targetTopic: t, detail: error });
        return results;
      }
    }
  }
  return results;
}

// Built-in handlers. A handler resolves on success, throws PermanentError when retrying cannot
// help, and throws anything else for a retry.
import type { Logger, MessageProducer } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { demoFootball } from './football';

export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

export interface RunContext {
  runId: string;
  jobId: string;
  appName: string;
  attempt: number;
  jobData: Record<string, unknown>;
  options: Record<string, unknown>;
  producer: MessageProducer;
  /** Creates a topic the first time a handler writes to it. */
  ensureTopic(topic: string): Promise<void>;
  logger: Logger;
  /** Counts messages a handler published, per topic, for the executor's stats. */
  published(topic: string, n?: number): void;
}

export type Handler = (ctx: RunContext) => Promise<void>;

// pipewright's own topics: a job must not be able to forge scheduling or run events.
const RESERVED_TOPICS: ReadonlySet<string> = new Set(Object.values(TOPICS));

/**
 * Publishes jobData (or jobData.value) to the app's topic. An app without a topic of its own
 * publishes to jobData.topic, which must match options.topicPattern when one is set and may
 * never be one of pipewright's own topics.
 */
const kafkaPublish: Handler = async (ctx) => {
  const own = ctx.options.topic;
  let topic: string;
  if (typeof own === 'string' && own !== '') {
    topic = own;
  } else {
    const requested = ctx.jobData.topic;
    if (typeof requested !== 'string' || requested === '') throw new PermanentError('kafka.publish needs a topic in the app options or jobData.topic');
    const pattern = ctx.options.topicPattern;
    if (typeof pattern === 'string' && !new RegExp(`^(?:${pattern})$`).test(requested)) {
      throw new PermanentError(`jobData.topic "${requested}" does not match the app's topicPattern ${pattern}`);
    }
    topic = requested;
  }
  if (RESERVED_TOPICS.has(topic)) throw new PermanentError(`kafka.publish may not write to pipewright's own topic ${topic}`);
  const key = (ctx.jobData.key as string | undefined) ?? (ctx.options.key as string | undefined) ?? ctx.jobId;
  const value = 'value' in ctx.jobData ? ctx.jobData.value : ctx.jobData;
  await ctx.ensureTopic(topic);
  await ctx.producer.send(topic, [
    { key: String(key), value: value as object, headers: { 'pipewright-run-id': ctx.runId, 'pipewright-job-id': ctx.jobId, 'pipewright-app': ctx.appName } },
  ]);
  ctx.published(topic);
};

/** POSTs the run as JSON. 2xx succeeds; 4xx is permanent; 5xx, timeouts and network errors retry. */
const http: Handler = async (ctx) => {
  const url = ctx.options.url as string | undefined;
  if (!url) throw new PermanentError('http handler needs options.url');
  const timeoutMs = Number(ctx.options.timeoutMs ?? 10_000);
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'idempotency-key': ctx.runId, ...((ctx.options.headers as Record<string, string>) ?? {}) },
      body: JSON.stringify({ runId: ctx.runId, jobId: ctx.jobId, appName: ctx.appName, attempt: ctx.attempt, jobData: ctx.jobData }),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new Error(`POST ${url} failed: ${(err as Error).message}`);
  }
  await res.arrayBuffer().catch(() => undefined);
  if (res.status >= 200 && res.status < 300) return;
  if (res.status >= 400 && res.status < 500) throw new PermanentError(`POST ${url} answered ${res.status}`);
  throw new Error(`POST ${url} answered ${res.status}`);
};

const noop: Handler = async () => undefined;

/** For tests: fails the first `failAttempts` attempts (all when unset); `permanent` skips retries. */
const fail: Handler = async (ctx) => {
  const failAttempts = Number(ctx.jobData.failAttempts ?? ctx.options.failAttempts ?? Infinity);
  if (ctx.attempt > failAttempts) return;
  const message = String(ctx.jobData.message ?? `failing attempt ${ctx.attempt} on purpose`);
  if (ctx.jobData.permanent ?? ctx.options.permanent) throw new PermanentError(message);
  throw new Error(message);
};

export const BUILT_IN_HANDLERS: Record<string, Handler> = {
  'kafka.publish': kafkaPublish,
  http,
  noop,
  fail,
  // Called through a wrapper: football.ts imports this module too, and either may load first.
  'demo.football': (ctx) => demoFootball(ctx),
};

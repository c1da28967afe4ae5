// The demo.football handler: reads its parameters, generates the matches, routes them and
// publishes each topic's share in one send.
import { PermanentError, type Handler } from '../types';
import { generateMatches } from './generator';
import { routeMatches } from './routing';

export const MAX_MATCHES_PER_RUN = 10_000;

/** Reads count and seed from jobData (app options as defaults); bad values are permanent errors. */
export function footballParams(jobData: Record<string, unknown>, options: Record<string, unknown>, runId: string): { count: number; seed: string | number } {
  const count = jobData.count ?? options.count ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_MATCHES_PER_RUN) {
    throw new PermanentError(`demo.football: count must be an integer from 1 to ${MAX_MATCHES_PER_RUN}, got ${JSON.stringify(count)}`);
  }
  // Without a seed the run id seeds the generator, so a retried attempt publishes the same
  // matches (same match ids) again instead of new ones.
  const seed = jobData.seed ?? options.seed ?? runId;
  if (typeof seed !== 'string' && typeof seed !== 'number') {
    throw new PermanentError(`demo.football: seed must be a string or a number, got ${JSON.stringify(seed)}`);
  }
  return { count, seed };
}

export const demoFootball: Handler = async (ctx) => {
  const { count, seed } = footballParams(ctx.jobData, ctx.options, ctx.runId);
  const routed = routeMatches(generateMatches(seed, count));
  const headers = { 'pipewright-run-id': ctx.runId, 'pipewright-job-id': ctx.jobId, 'pipewright-app': ctx.appName };
  for (const [topic, matches] of routed) {
    await ctx.ensureTopic(topic);
    await ctx.producer.send(
      topic,
      matches.map((m) => ({ key: m.matchId, value: m, headers })),
    );
    ctx.published(topic, matches.length);
  }
  ctx.logger.info({ count, perTopic: Object.fromEntries([...routed].map(([t, ms]) => [t, ms.length])) }, 'football matches published');
};

// http: POSTs the run to a URL.
import { PermanentError, type Handler } from './types';

/** POSTs the run as JSON. 2xx succeeds; 4xx is permanent; 5xx, timeouts and network errors retry. */
export const http: Handler = async (ctx) => {
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

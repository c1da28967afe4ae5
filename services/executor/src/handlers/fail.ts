// fail: fails on purpose, for tests.
import { PermanentError, type Handler } from './types';

/** For tests: fails the first `failAttempts` attempts (all when unset); `permanent` skips retries. */
export const fail: Handler = async (ctx) => {
  const failAttempts = Number(ctx.jobData.failAttempts ?? ctx.options.failAttempts ?? Infinity);
  if (ctx.attempt > failAttempts) return;
  const message = String(ctx.jobData.message ?? `failing attempt ${ctx.attempt} on purpose`);
  if (ctx.jobData.permanent ?? ctx.options.permanent) throw new PermanentError(message);
  throw new Error(message);
};

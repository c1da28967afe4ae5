// fail: fails on purpose, for tests.
import { PermanentError, type Handler } from './types';

/** For tests: fails the first `failAttempts` attempts (all when unset); `permanent` skips retries. */
export const fail: Handler = async (ctx) => {
  const failAttempts = Number(ctx.jobData.failAttempts ?? ctx.options.failAttempts ?? Infinity);
  if (ctx.attempt > failAttempts) return;
  const given = ctx.jobData.message;
  const message = given === undefined || given === null ? `failing attempt ${ctx.attempt} on purpose` : typeof given === 'string' ? given : JSON.stringify(given);
  if (ctx.jobData.permanent ?? ctx.options.permanent) throw new PermanentError(message);
  throw new Error(message);
};

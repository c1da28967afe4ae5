// Waiting in tests: for a while, or until something holds.

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** What `eventually` resolves to: the first value fn returned that is not falsy. */
export type Truthy<T> = Exclude<T, false | 0 | 0n | '' | null | undefined>;

export interface EventuallyOptions {
  timeoutMs?: number;
  intervalMs?: number;
  /** What is waited for, in the error when it does not happen. */
  message?: string;
}

/** Polls fn until it returns a truthy value; fails with the last value after timeoutMs. */
export async function eventually<T>(fn: () => T | PromiseLike<T>, { timeoutMs = 30_000, intervalMs = 200, message = 'condition' }: EventuallyOptions = {}): Promise<Truthy<Awaited<T>>> {
  const deadline = Date.now() + timeoutMs;
  let last: Awaited<T> | undefined;
  let lastErr: unknown;
  while (Date.now() < deadline) {
    try {
      last = await fn();
      if (last) return last as Truthy<Awaited<T>>;
    } catch (err) {
      lastErr = err;
    }
    await sleep(intervalMs);
  }
  const error = lastErr instanceof Error ? `, error: ${lastErr.message}` : lastErr === undefined ? '' : `, error: ${typeof lastErr === 'string' ? lastErr : JSON.stringify(lastErr)}`;
  throw new Error(`${message} not reached within ${timeoutMs} ms (last: ${JSON.stringify(last)}${error})`);
}

/** A promise and the function that resolves it: a gate a test opens when it chooses. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** The time of an instant a message must have (a proto Timestamp field is optional): its epoch milliseconds. */
export function millis(instant: Date | undefined, what = 'the time'): number {
  if (!(instant instanceof Date)) throw new Error(`${what} is missing`);
  return instant.getTime();
}

// noop: succeeds at once, doing nothing.
import type { Handler } from './types';

export const noop: Handler = async () => undefined;

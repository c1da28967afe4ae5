// The built-in handlers, by the name an app's registry entry gives in `handler`. Each handler
// is its own module; the types they share and PermanentError are in ./types.
import type { Handler } from './types';
import { kafkaPublish } from './kafka-publish';
import { http } from './http';
import { noop } from './noop';
import { fail } from './fail';
import { demoFootball } from './football';
import { stockRun } from './stock-run';

export * from './types';

export const BUILT_IN_HANDLERS: Record<string, Handler> = {
  'kafka.publish': kafkaPublish,
  http,
  noop,
  fail,
  'demo.football': demoFootball,
  'stock.run': stockRun,
};

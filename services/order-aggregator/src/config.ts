import { service } from '@pipewright/contracts';
import { postgresSettings, schemaRegistrySettings, serviceSettings, setting, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(service('order-aggregator').grpcPort, {
  ...postgresSettings,
  ...schemaRegistrySettings,
  ORDERS_WINDOWS: setting.durations('sizes of the tumbling windows kept per product, aligned to the epoch, comma-separated; none: no windows', {
    default: '1m,1h',
    minMs: 1000,
    allowEmpty: true,
    maxItems: 8,
  }),
  ORDERS_WINDOW_GRACE: setting.duration('how long after its end a window still takes late orders (by stream time)', { default: '5m' }),
  ORDERS_WINDOW_RETENTION: setting.duration('windows that ended longer ago than this are deleted', { default: '7d', minMs: 60_000 }),
  ORDERS_DEDUPE_WINDOW: setting.duration('an order whose orderId was counted within this time is a duplicate and is not counted again (0: no dedupe)', { default: '24h' }),
  ORDERS_RETRY_BACKOFF: setting.durations('waits between the retries of an order whose processing fails, comma-separated: one retry per entry, then orders-dlq; none: no retry', {
    default: '200ms,400ms,800ms',
    allowEmpty: true,
  }),
  ORDERS_FAILURE_RATE: setting.fraction('share of order processing attempts that fail on purpose, to see retries and the DLQ at work', { default: 0 }),
  ORDERS_BATCH: setting.int('most orders applied per transaction (a fetched batch is split)', { default: 5000, min: 1, max: 50_000 }),
  ORDERS_WATCH_INTERVAL: setting.duration('WatchAggregates sends at most one change per product this often', { default: '200ms', minMs: 10 }),
});

export type Config = ConfigOf<typeof settings>;

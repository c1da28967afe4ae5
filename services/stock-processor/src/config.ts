// stock-processor's settings: the ones every service has, PostgreSQL's, the batch size and the
// simulated failure rate.
import { service } from '@pipewright/contracts';
import { postgresSettings, serviceSettings, setting, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(service('stock-processor').grpcPort, {
  ...postgresSettings,
  STOCK_PROCESSOR_BATCH: setting.int('most processing tasks stored per transaction (a fetched batch is split)', { default: 1000, min: 1, max: 50_000 }),
  STOCK_PROCESSING_FAILURE_RATE: setting.fraction('share of symbols whose processing fails on purpose (processing-errors), picked by run id and symbol so that a replayed task fails alike', {
    default: 0,
  }),
});

export type Config = ConfigOf<typeof settings>;

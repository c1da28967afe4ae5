// order-aggregator's settings: the ones every service has and PostgreSQL's. Its own settings
// (the dedupe window, window sizes and grace, retry backoff, the simulated failure rate) go
// here when the aggregation is built; none is declared yet, since nothing would read them.
import { service } from '@pipewright/contracts';
import { postgresSettings, serviceSettings, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(service('order-aggregator').grpcPort, { ...postgresSettings });

export type Config = ConfigOf<typeof settings>;

// stock-processor's settings: the ones every service has and PostgreSQL's. Its own settings go
// here when processing is built; none is declared yet, since nothing would read them.
import { service } from '@pipewright/contracts';
import { postgresSettings, serviceSettings, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(service('stock-processor').grpcPort, { ...postgresSettings });

export type Config = ConfigOf<typeof settings>;

import { postgresSettings, serviceSettings, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(50054, { ...postgresSettings });

export type Config = ConfigOf<typeof settings>;

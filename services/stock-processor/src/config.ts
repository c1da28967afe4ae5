import { postgresSettings, serviceSettings, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(50056, { ...postgresSettings });

export type Config = ConfigOf<typeof settings>;

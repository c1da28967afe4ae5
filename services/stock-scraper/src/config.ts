import { serviceSettings, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(50055, {});

export type Config = ConfigOf<typeof settings>;

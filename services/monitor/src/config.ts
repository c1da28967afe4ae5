import { postgresSettings, serviceSettings, setting, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(50057, {
  ...postgresSettings,
  MONITOR_HTTP_PORT: setting.port('port of the monitor web page', { default: 8080 }),
});

export type Config = ConfigOf<typeof settings>;

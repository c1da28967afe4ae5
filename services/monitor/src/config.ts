// monitor's settings: the ones every service has, PostgreSQL's, and the port of its web page.
// Settings of the views still to be built (lag sampling, how many recent errors to keep) go
// here with them; none is declared yet, since nothing would read them.
import { service } from '@pipewright/contracts';
import { postgresSettings, serviceSettings, setting, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(service('monitor').grpcPort, {
  ...postgresSettings,
  MONITOR_HTTP_PORT: setting.port('port of the monitor web page', { default: 8080 }),
});

export type Config = ConfigOf<typeof settings>;

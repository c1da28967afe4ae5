import { postgresSettings, serviceSettings, setting, type ConfigOf } from '@pipewright/platform';
import { APPS_CONFIG_HELP, DEFAULT_APPS_CONFIG, service } from '@pipewright/contracts';

export const settings = serviceSettings(service('executor').grpcPort, {
  ...postgresSettings,
  APPS_CONFIG: setting.string(APPS_CONFIG_HELP, { default: DEFAULT_APPS_CONFIG }),
  EXECUTOR_CONCURRENCY: setting.int('runs executed at once by this instance (handlers are asynchronous: waiting on I/O, many can be in flight)', { default: 256, min: 1, max: 10000 }),
  EXECUTOR_DEFAULT_MAX_RETRIES: setting.int('retries after the first attempt when a job does not say', { default: 3, min: 0, max: 100 }),
  EXECUTOR_BACKOFF_INITIAL: setting.duration('first retry delay when a job does not say', { default: '200ms', formerly: 'EXECUTOR_BACKOFF_INITIAL_MS' }),
  EXECUTOR_BACKOFF_MULTIPLIER: setting.int('growth of the retry delay per attempt', { default: 2, min: 1, max: 10 }),
  EXECUTOR_BACKOFF_MAX: setting.duration('longest retry delay', { default: '30s', formerly: 'EXECUTOR_BACKOFF_MAX_MS' }),
  EXECUTOR_INLINE_RETRY_MAX: setting.duration('retries due within this wait in the executor; later ones are fired again by the scheduler at their time', {
    default: '1s',
    formerly: 'EXECUTOR_INLINE_RETRY_MAX_MS',
  }),
  EXECUTOR_REPORT_RUNNING_AFTER: setting.duration('an attempt still running after this long is reported RUNNING; a quicker one reports its start with its outcome (0 reports every start)', {
    default: '500ms',
  }),
  EXECUTOR_RETENTION: setting.duration(
    'claims of runs finished longer ago than this are deleted; a copy of such a run delivered later would run again, so keep it above the retention of jobs.due (1h, 7d)',
    { default: '7d' },
  ),
  EXECUTOR_RUN_LEASE: setting.duration('how long a run stays claimed by an executor that stopped renewing it (crashed) before another takes it over', {
    default: '30s',
    minMs: 3000,
    formerly: 'EXECUTOR_RUN_LEASE_MS',
  }),
});

export type Config = ConfigOf<typeof settings>;

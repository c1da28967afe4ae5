import { postgresSettings, serviceSettings, setting, type ConfigOf } from '@pipewright/platform';
import { APPS_CONFIG_HELP, DEFAULT_APPS_CONFIG, service } from '@pipewright/contracts';

export const settings = serviceSettings(service('scheduler').grpcPort, {
  ...postgresSettings,
  SCHEDULER_DEFAULT_TIMEZONE: setting.zone('IANA zone for scheduledTime values written without an offset', { default: 'UTC' }),
  APPS_CONFIG: setting.string(APPS_CONFIG_HELP, { default: DEFAULT_APPS_CONFIG }),
  SCHEDULER_IDEMPOTENCY_WINDOW: setting.duration('how long an idempotency key blocks a second job (30s, 15m, 24h, 7d)', { default: '24h' }),
  SCHEDULER_MAX_MESSAGE_BYTES: setting.int('largest accepted job request, in bytes', { default: 1_000_000, min: 256 }),
  SCHEDULER_FIRE_BATCH: setting.int('occurrences claimed and published per firing transaction', { default: 1000, min: 1, max: 10_000 }),
  SCHEDULER_INGEST_BATCH: setting.int('most job requests stored per transaction (a fetched batch is split)', { default: 1000, min: 1, max: 10_000 }),
  SCHEDULER_INGEST_TRANSACTIONS: setting.int(
    'ingest transactions under way at once, each of other partitions (a connection each, of DATABASE_POOL_MAX): the next one is made ready while one waits for PostgreSQL',
    { default: 2, min: 1, max: 16 },
  ),
  SCHEDULER_STATUS_BATCH: setting.int('most run status events applied per transaction', { default: 1000, min: 1, max: 10_000 }),
  SCHEDULER_RETENTION: setting.duration('finished jobs and their runs older than this are deleted (1h, 7d)', { default: '7d' }),
  SCHEDULER_MAX_IDLE: setting.duration('longest sleep of the firing loop when nothing is due', { default: '10s', minMs: 10, formerly: 'SCHEDULER_MAX_IDLE_MS' }),
  SCHEDULER_MISFIRE_THRESHOLD: setting.duration('how late an occurrence may fire before its misfire policy applies', { default: '60s', formerly: 'SCHEDULER_MISFIRE_THRESHOLD_MS' }),
  SCHEDULER_CATCH_UP_WINDOW: setting.duration('how far back catch_up fires missed occurrences when a job does not say', { default: '1h', formerly: 'SCHEDULER_CATCH_UP_WINDOW_MS' }),
  SCHEDULER_INGEST: setting.bool(
    'consume scheduler.jobs.ingest; false: an instance that serves gRPC and fires due jobs but stores no new requests (maintenance of the intake), where GetJob answers NEW for what waits',
    { default: true },
  ),
  SCHEDULER_FIRE_AT_INGEST: setting.bool(
    'fire a one-shot job that is due already as it is stored (its run published from the storing transaction) when no due job of its priority or a higher one waits; false: every job waits for a firing pass',
    { default: true },
  ),
  SCHEDULER_RUN_TIMEOUT: setting.duration('after this long an unfinished run no longer blocks the next occurrence of its job', { default: '1h', minMs: 1000, formerly: 'SCHEDULER_RUN_TIMEOUT_MS' }),
});

export type Config = ConfigOf<typeof settings>;

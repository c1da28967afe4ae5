import { schemaRegistrySettings, serviceSettings, setting, type ConfigOf } from '@pipewright/platform';
import { APPS_CONFIG_HELP, DEFAULT_APPS_CONFIG, service } from '@pipewright/contracts';

export const settings = serviceSettings(service('ingest-gateway').grpcPort, {
  INGEST_DEFAULT_TIMEZONE: setting.zone('IANA zone for scheduledTime values written without an offset', { default: 'UTC' }),
  APPS_CONFIG: setting.string(APPS_CONFIG_HELP, { default: DEFAULT_APPS_CONFIG }),
  INGEST_MAX_JOB_BYTES: setting.int("largest job request accepted, in bytes as published (keep it at most the scheduler's SCHEDULER_MAX_MESSAGE_BYTES)", { default: 1_000_000, min: 256 }),
  INGEST_MAX_BATCH: setting.int('most jobs in one ScheduleJobs call, and most orders in one SubmitOrders call', { default: 1000, min: 1 }),
  ...schemaRegistrySettings,
});

export type Config = ConfigOf<typeof settings>;

import { serviceSettings, setting, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(50051, {
  INGEST_DEFAULT_TIMEZONE: setting.string('IANA zone for scheduledTime values written without an offset', { default: 'UTC' }),
  INGEST_APPS: setting.optionalString('comma-separated app names accepted; any app when unset'),
  INGEST_MAX_BATCH: setting.int('most jobs in one ScheduleJobs call', { default: 1000, min: 1 }),
});

export type Config = ConfigOf<typeof settings>;

import { grpcCallSettings, schemaRegistrySettings, serviceSettings, setting, type ConfigOf } from '@pipewright/platform';
import { APPS_CONFIG_HELP, DEFAULT_APPS_CONFIG, SERVICES, service } from '@pipewright/contracts';

export const settings = serviceSettings(service('ingest-gateway').grpcPort, {
  INGEST_DEFAULT_TIMEZONE: setting.zone('IANA zone for scheduledTime values written without an offset', { default: 'UTC' }),
  APPS_CONFIG: setting.string(APPS_CONFIG_HELP, { default: DEFAULT_APPS_CONFIG }),
  INGEST_MAX_JOB_BYTES: setting.int("largest job request accepted, in bytes as published (keep it at most the scheduler's SCHEDULER_MAX_MESSAGE_BYTES)", { default: 1_000_000, min: 256 }),
  INGEST_MAX_BATCH: setting.int('most jobs in one ScheduleJobs call, and most orders in one SubmitOrders call', { default: 1000, min: 1 }),
  ...schemaRegistrySettings,
  INGEST_HTTP: setting.bool(
    'serve the HTTP/JSON door on INGEST_HTTP_PORT; false: gRPC only. The door speaks plain HTTP and takes no client certificates, so with GRPC_TLS_CLIENT_CA it needs bearer tokens (GRPC_TOKENS_FILE or GRPC_JWKS)',
    { default: true },
  ),
  INGEST_HTTP_PORT: setting.port('port of the HTTP/JSON door (the gRPC methods with google.api.http rules, and /openapi.json), on GRPC_HOST (0 picks a free one)', { default: 8081 }),
  INGEST_HTTP_UPSTREAMS: setting.list(
    "gRPC addresses the HTTP/JSON door forwards other services' methods to, name=host:port (names as in services.json); the caller's authorization header goes along",
    {
      default: SERVICES.filter((s) => s.name !== 'ingest-gateway').map((s) => `${s.name}=127.0.0.1:${s.grpcPort}`),
    },
  ),
  ...grpcCallSettings,
});

export type Config = ConfigOf<typeof settings>;

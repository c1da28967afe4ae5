// monitor's settings: the ones every service has, PostgreSQL's, the schema registry (to show Avro
// orders in the DLQ), its web dashboard, consumer lag, dead letters and replays, recent errors, and
// the services whose health the overview reports.
import { SERVICES, service } from '@pipewright/contracts';
import { checkDashboardHosts } from './dashboard/access';
import { grpcCallSettings, postgresSettings, schemaRegistrySettings, serviceSettings, setting, type ConfigOf, type Setting } from '@pipewright/platform';

/** A setting whose parsed value must also pass `check` (which throws saying what is wrong). */
function checked<T>(s: Setting<T>, check: (value: T) => unknown): Setting<T> {
  return {
    ...s,
    parse: (raw) => {
      const v = s.parse(raw);
      check(v);
      return v;
    },
  };
}

/** A list that may be unset or empty (the chart's value without an Ingress): no entries. */
function noneWhenEmpty(s: Setting<string[]>): Setting<string[]> {
  return { ...s, required: false, absent: () => [], parse: (raw) => (raw.trim() === '' ? [] : s.parse(raw)) };
}

export const settings = serviceSettings(service('monitor').grpcPort, {
  ...postgresSettings,
  ...schemaRegistrySettings,
  ...grpcCallSettings,
  MONITOR_HTTP_PORT: setting.port('port of the web dashboard', { default: 8080 }),
  MONITOR_HTTP_HOST: setting.optionalString('address the web dashboard binds; GRPC_HOST when unset'),
  MONITOR_DASHBOARD_HOSTS: checked(noneWhenEmpty(setting.list('host names a dashboard without login answers to, besides 127.0.0.1, localhost and [::1] (its Ingress host)')), checkDashboardHosts),
  MONITOR_DASHBOARD_REFRESH: setting.duration('how often the dashboard asks again for the figures that have no gRPC watch stream', { default: '2s', minMs: 100, maxMs: 600_000 }),
  MONITOR_CLUSTER_NAME: setting.string('cluster_name label of the consumer-lag metrics (kafka-lag-exporter names)', { default: 'pipewright' }),
  MONITOR_LAG_INTERVAL: setting.duration('how often log-end offsets are read (lag, rates, DLQ depths) and WatchConsumerLag checks for changes', { default: '5s', minMs: 100, maxMs: 600_000 }),
  MONITOR_LAG_WINDOW: setting.int("commits per partition a status is evaluated over (Burrow's intervals)", { default: 10, min: 2, max: 100 }),
  MONITOR_LAG_MIN_DISTANCE: setting.duration("commits closer than this to the previous one replace it in the window (Burrow's min-distance)", { default: '5s', maxMs: 600_000 }),
  MONITOR_LAG_ALLOWED: setting.int('lag, in messages, that counts as none (transaction markers take an offset each)', { default: 1, min: 0 }),
  MONITOR_LAG_ALL_GROUPS: setting.bool("report every consumer group of the cluster, not only those reading pipewright's topics", { default: false }),
  MONITOR_SERVICES: checked(
    setting.list('gRPC addresses whose grpc.health.v1 the overview reports, name=host:port; a host that resolves to several addresses counts each as a replica', {
      default: SERVICES.map((s) => `${s.name}=127.0.0.1:${s.grpcPort}`),
    }),
    serviceAddresses,
  ),
  MONITOR_HEALTH_INTERVAL: setting.duration('how often every service replica is asked for its health', { default: '5s', minMs: 100 }),
  MONITOR_DLQ_RETENTION: setting.duration('dead letters are kept this long for browsing and replay (Kafka keeps the topic by its own retention)', { default: '7d', minMs: 60_000 }),
  MONITOR_REPLAY_RATE: setting.int('most dead letters a replay sends per second, when the request names no rate', { default: 100, min: 1, max: 100_000 }),
  MONITOR_RECENT_ERRORS: setting.int('recent errors kept (dead letters, error topics, failed runs)', { default: 1000, min: 10, max: 1_000_000 }),
});

export type Config = ConfigOf<typeof settings>;

/** MONITOR_SERVICES as service name and host:port pairs; a malformed entry is a setting error. */
export function serviceAddresses(entries: readonly string[]): Array<{ service: string; host: string; port: number }> {
  return entries.map((entry) => {
    const m = /^([a-z0-9][a-z0-9.-]*)=(\[[0-9a-f:]+\]|[^:=\s]+):(\d{1,5})$/i.exec(entry.trim());
    if (!m) throw new Error(`"${entry}" is not name=host:port`);
    return { service: m[1], host: m[2].replace(/^\[|\]$/g, ''), port: Number(m[3]) };
  });
}

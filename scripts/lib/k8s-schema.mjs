// The values.schema.json of every chart, generated from one description so the seven service
// charts cannot drift apart. The k8s tests fail when a chart's file differs from this output.
//
//   node scripts/lib/k8s-schema.mjs     rewrites charts/*/values.schema.json
import { writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_LIST } from './services.mjs';

export const CHARTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'charts');
/** Names of the services, from packages/contracts/services.json. */
export const SERVICES = SERVICE_LIST.map((s) => s.name);

const str = (description, extra = {}) => ({ type: 'string', ...(description && { description }), ...extra });
const bool = (description) => ({ type: 'boolean', ...(description && { description }) });
const int = (description, minimum, maximum) => ({ type: 'integer', ...(description && { description }), ...(minimum !== undefined && { minimum }), ...(maximum !== undefined && { maximum }) });
const port = (description) => int(description, 1, 65535);
const obj = (properties, extra = {}) => ({ type: 'object', additionalProperties: false, properties, ...extra });
const map = (values = {}) => ({ type: 'object', additionalProperties: values });
const list = (items = { type: 'object' }) => ({ type: 'array', items });
const quantity = { type: ['string', 'number'] };
const resources = obj({ requests: map(quantity), limits: map(quantity) });
const image = (extra = {}) => obj({
  repository: str('image repository'),
  tag: { type: ['string', 'number'], description: 'image tag' },
  pullPolicy: str('', { enum: ['', 'Always', 'IfNotPresent', 'Never'] }),
  ...extra,
});
const persistence = obj({ enabled: bool('a PersistentVolumeClaim; an emptyDir when false'), size: str('volume size', { pattern: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti)?$' }), storageClass: str('storage class; the cluster default when empty') });
const logLevel = str('LOG_LEVEL', { enum: ['', 'trace', 'debug', 'info', 'warn', 'error', 'fatal'] });
const probe = obj({ service: str('grpc.health.v1 service name of this probe; probes.service when absent ("liveness": the process answers)'), initialDelaySeconds: int('', 0), periodSeconds: int('', 1), timeoutSeconds: int('', 1), failureThreshold: int('', 1), successThreshold: int('', 1) });

const appRegistry = (description) => ({
  ...map(obj({ handler: str('a handler of the executor (ListHandlers)'), options: { type: 'object' } }, { required: ['handler'] })),
  propertyNames: { pattern: '^[A-Za-z0-9_.-]+$' },
  description,
});

const globalSchema = obj({
  apps: appRegistry('the app registry of the release (APPS_CONFIG of the gateway, scheduler and executor); the images\' own when empty'),
  image: obj({ registry: str('registry of the service images'), tag: str('tag of the service images'), pullPolicy: str('', { enum: ['', 'Always', 'IfNotPresent', 'Never'] }) }),
  logLevel,
  kafka: obj({
    brokers: str('bootstrap servers, host:port[,host:port] (tpl)'),
    existingSecret: str('Secret with the connection settings of an external Kafka (tpl)'),
    secretKeys: obj({ brokers: str('key of the bootstrap servers; not read from the Secret when empty'), username: str('key of the SASL user name'), password: str('key of the SASL password') }),
    tls: bool('connect with TLS (KAFKA_SSL)'),
    saslMechanism: str('KAFKA_SASL_MECHANISM', { enum: ['', 'plain', 'scram-sha-256', 'scram-sha-512'] }),
    caSecret: obj({ name: str('Secret with the CA certificate of the brokers (KAFKA_SSL_CA)'), key: str('its key') }),
    clientCertSecret: obj({ name: str('Secret with a client certificate for the brokers (KAFKA_SSL_CERT, KAFKA_SSL_KEY; tpl)'), certKey: str('key of the certificate'), keyKey: str('key of the private key') }),
    users: obj({
      enabled: bool('a SCRAM user per service, named like its fullname, its password in the Secret of that name'),
      passwordKey: str('key of the password in that Secret'),
      strimzi: obj({ enabled: bool('render a Strimzi KafkaUser per service with its ACLs'), cluster: str('strimzi.io/cluster: the Kafka resource (tpl)') }),
    }),
    topicPartitions: int('KAFKA_TOPIC_PARTITIONS', 1, 10000),
    replicationFactor: int('KAFKA_REPLICATION_FACTOR (-1: broker default)', -1, 100),
  }),
  grpc: obj({
    auth: obj({
      enabled: bool('bearer tokens on every gRPC call (GRPC_AUTH=on, GRPC_TOKENS_FILE from tokensSecret)'),
      createSecret: bool('the umbrella chart makes tokensSecret with generated tokens, kept across upgrades'),
      tokensSecret: str('Secret holding the tokens file (tpl)'),
      tokensKey: str('its key holding tokens.json'),
      callTokenKey: str('its key holding the token the monitor sends on its calls (GRPC_CALL_TOKEN_FILE)'),
    }),
  }),
  database: obj({ existingSecret: str('Secret holding the PostgreSQL URL (tpl)'), secretKey: str('its key') }),
  otel: obj({ endpoint: str('OTLP endpoint; tracing is off when empty (tpl)'), protocol: str('', { enum: ['http/protobuf', 'http/json', 'grpc'] }), resourceAttributes: str('extra OTEL_RESOURCE_ATTRIBUTES') }),
}, { additionalProperties: true });

/** The values of one service chart (the keys of charts/pipewright-lib/values.yaml), plus its own. */
export function serviceSchema(own = {}) {
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'pipewright service chart values',
    ...obj({
      enabled: bool('installed by the umbrella chart'),
      nameOverride: str(''),
      fullnameOverride: str(''),
      image: image({ registry: str('registry; global.image.registry when empty'), digest: str('sha256 digest that pins the image', { pattern: '^(sha256:[a-f0-9]{64})?$' }) }),
      imagePullSecrets: list(obj({ name: str('') }, { required: ['name'] })),
      replicaCount: int('replicas while autoscaling is off', 0),
      grpcPort: port('GRPC_PORT'),
      metricsPort: port('METRICS_PORT'),
      logLevel,
      shutdownTimeoutMs: int('SHUTDOWN_TIMEOUT', 0),
      preStopSleepSeconds: int('pause before SIGTERM while endpoints are removed', 0, 120),
      database: obj({ enabled: bool('the service uses PostgreSQL (DATABASE_URL)'), existingSecret: str('Secret holding the URL; global.database.existingSecret when empty'), secretKey: str('its key'), poolMax: int('DATABASE_POOL_MAX', 1, 500) }),
      env: { ...map({ type: ['string', 'number', 'boolean'] }), propertyNames: { pattern: '^[A-Z_][A-Z0-9_]*$' }, description: 'extra settings, NAME: value (tpl)' },
      extraEnv: list({ type: 'object', required: ['name'] }),
      resources,
      autoscaling: obj({
        enabled: bool('a HorizontalPodAutoscaler owns the replica count'),
        minReplicas: int('', 1),
        maxReplicas: int('at most the partitions of the consumed topics', 1),
        targetCPUUtilizationPercentage: int('0: not a metric', 0),
        targetMemoryUtilizationPercentage: int('0: not a metric', 0),
        behavior: { type: 'object' },
      }),
      podDisruptionBudget: obj({ enabled: bool(''), maxUnavailable: { type: ['integer', 'string'] } }),
      networkPolicy: obj({ enabled: bool(''), grpcFrom: list(), metricsFrom: list() }),
      service: obj({ type: str('', { enum: ['ClusterIP', 'NodePort', 'LoadBalancer'] }), annotations: map({ type: 'string' }), headless: bool('also a headless Service for client-side balancing') }),
      serviceAccount: obj({ create: bool(''), name: str(''), annotations: map({ type: 'string' }) }),
      probes: obj({ service: str('grpc.health.v1 service name'), startup: probe, readiness: probe, liveness: probe }),
      extraPorts: list(obj({ name: str('', { pattern: '^[a-z0-9-]{1,15}$' }), port: { type: ['integer', 'string'] }, protocol: str('', { enum: ['TCP', 'UDP'] }), appProtocol: str('') }, { required: ['name', 'port'] })),
      extraVolumes: list(),
      extraVolumeMounts: list(),
      podAnnotations: map({ type: 'string' }),
      podLabels: map({ type: 'string' }),
      podSecurityContext: { type: 'object' },
      securityContext: { type: 'object' },
      nodeSelector: map({ type: 'string' }),
      tolerations: list(),
      affinity: { type: 'object' },
      topologySpread: bool('spread replicas over nodes'),
      priorityClassName: str(''),
      appRegistry: bool('the service reads the app registry (APPS_CONFIG)'),
      grpcCallToken: bool('sends global.grpc.auth.callTokenKey on its calls to the other services (GRPC_CALL_TOKEN_FILE)'),
      apps: appRegistry('the app registry (APPS_CONFIG) when global.apps is empty: app name -> handler and options'),
      global: globalSchema,
      'pipewright-lib': { type: 'object', description: 'the defaults exported by the library chart' },
      ...own,
    }, { required: ['grpcPort'] }),
  };
}

/** What is truly a service's own, beyond the shared keys. */
const OWN = {
  'ingest-gateway': {
    http: obj({
      enabled: bool('the HTTP/JSON door (INGEST_HTTP), as the container and Service port named http; false: gRPC only'),
      port: port('INGEST_HTTP_PORT'),
      upstreams: {
        ...map({ type: 'string' }),
        propertyNames: { enum: SERVICES },
        description: 'INGEST_HTTP_UPSTREAMS: service name -> host:port (tpl) in place of <release>-<service>:<its gRPC port>',
      },
    }),
  },
  monitor: {
    httpPort: port('MONITOR_HTTP_PORT, the web dashboard'),
    healthTargets: {
      ...list(obj({ service: str('a service name, as GetOverview reports it'), port: port('its gRPC port') }, { required: ['service', 'port'] })),
      description: 'MONITOR_SERVICES: each is checked at <release>-<service>-headless:<port>, every ready pod a replica',
    },
    podMonitor: obj({
      enabled: bool('a Prometheus Operator PodMonitor for the metrics port'),
      interval: str('scrape interval'),
      scrapeTimeout: str('scrape timeout'),
      labels: map({ type: 'string' }),
    }),
    ingress: obj({
      enabled: bool('an Ingress to the web dashboard (the port named http)'),
      className: str('ingressClassName; the cluster default when empty'),
      host: str('host name it answers for; every host when empty'),
      path: str('path prefix', { pattern: '^/' }),
      annotations: map({ type: 'string' }),
      tlsSecret: str('Secret with the certificate for host: TLS at the Ingress when set'),
    }),
  },
};

export function umbrellaSchema() {
  const component = (properties) => obj({ enabled: bool('installed by this chart'), image: image(), resources, ...properties });
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'pipewright umbrella chart values',
    ...obj({
      global: globalSchema,
      'pipewright-lib': { type: 'object' },
      ...Object.fromEntries(SERVICES.map((s) => [s, { type: 'object', description: `values of the ${s} chart (validated by its own schema)` }])),
      kafka: component({
        clusterId: str('KRaft cluster id (base64 of 16 bytes)', { pattern: '^[A-Za-z0-9_-]{22}$' }),
        heap: str('JVM heap', { pattern: '^[0-9]+[kmg]$' }),
        retentionHours: int('', 1),
        defaultPartitions: int('partitions of topics that do not say', 1, 10000),
        topics: list(obj({ name: str('', { pattern: '^[a-zA-Z0-9._-]{1,249}$' }), partitions: int('', 1, 10000) }, { required: ['name'] })),
        persistence,
      }),
      postgresql: component({
        auth: obj({ database: str('', { minLength: 1 }), username: str('', { minLength: 1 }), password: str('generated when empty') }),
        maxConnections: int('', 10),
        persistence,
      }),
      otelCollector: component({ extraExporters: { type: 'object', description: 'more trace exporters, name -> collector exporter config' } }),
      jaeger: component({}),
    }),
  };
}

/** Every generated schema, by chart directory name. */
export function allSchemas() {
  return {
    pipewright: umbrellaSchema(),
    ...Object.fromEntries(SERVICES.map((s) => [s, serviceSchema(OWN[s])])),
  };
}

export const schemaText = (schema) => `${JSON.stringify(schema, null, 2)}\n`;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [chart, schema] of Object.entries(allSchemas())) {
    const file = join(CHARTS_DIR, chart, 'values.schema.json');
    writeFileSync(file, schemaText(schema));
    console.log(`wrote ${file}`);
  }
}

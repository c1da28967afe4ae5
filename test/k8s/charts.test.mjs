// The Helm charts, checked offline: lint, schemas, rendering with default and external values,
// Kubernetes schema validation, pod security, probes, termination, autoscaling vs partitions.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHARTS_DIR, EXTERNAL_VALUES, SERVICES, UMBRELLA, compiled, find, helm, podSpecs, render, renderNotes, template, validateManifests, yaml } from '../../scripts/lib/k8s-charts.mjs';
import { allSchemas, schemaText } from '../../scripts/lib/k8s-schema.mjs';

const { LIVENESS_SERVICE } = compiled('packages/platform/src/grpc.ts');

const charts = readdirSync(CHARTS_DIR).filter((d) => statSync(join(CHARTS_DIR, d)).isDirectory());
const umbrellaValues = yaml().parse(readFileSync(join(UMBRELLA, 'values.yaml'), 'utf8'));

const renders = {
  default: render(UMBRELLA),
  external: render(UMBRELLA, { valuesFiles: [EXTERNAL_VALUES] }),
};
const serviceDeployments = (objects) => SERVICES.map((s) => ({ service: s, deployment: find(objects, 'Deployment', `pipewright-${s}`) }));

test('the charts are the library, the umbrella and one chart per service', () => {
  assert.deepEqual([...charts].sort(), ['pipewright', 'pipewright-lib', ...SERVICES].sort());
  for (const s of SERVICES) {
    const chart = yaml().parse(readFileSync(join(CHARTS_DIR, s, 'Chart.yaml'), 'utf8'));
    assert.ok(chart.dependencies.some((d) => d.name === 'pipewright-lib' && d.repository === 'file://../pipewright-lib'), `${s} depends on the library chart`);
    // A service chart's templates only call the library: nothing repeated per service.
    for (const f of readdirSync(join(CHARTS_DIR, s, 'templates'))) {
      const text = readFileSync(join(CHARTS_DIR, s, 'templates', f), 'utf8');
      assert.ok(!/kind:\s*(Deployment|Service|HorizontalPodAutoscaler|PodDisruptionBudget|ServiceAccount|NetworkPolicy)\b/.test(text), `${s}/templates/${f} defines a shared kind itself`);
    }
  }
  const umbrella = yaml().parse(readFileSync(join(UMBRELLA, 'Chart.yaml'), 'utf8'));
  assert.deepEqual(umbrella.dependencies.map((d) => d.name).filter((n) => n !== 'pipewright-lib').sort(), [...SERVICES].sort());
});

test('helm lint passes for every chart, and for the umbrella with the external values', () => {
  for (const c of charts) helm(['lint', '--strict', join(CHARTS_DIR, c)]);
  helm(['lint', '--strict', UMBRELLA, '--values', EXTERNAL_VALUES]);
});

test('values.schema.json of every chart is the generated one (node scripts/lib/k8s-schema.mjs)', () => {
  for (const [chart, schema] of Object.entries(allSchemas())) {
    assert.equal(readFileSync(join(CHARTS_DIR, chart, 'values.schema.json'), 'utf8'), schemaText(schema), `charts/${chart}/values.schema.json is stale`);
  }
});

test('the schemas reject malformed values', () => {
  const rejects = (set, pattern) => assert.throws(() => template(UMBRELLA, { set }), pattern, JSON.stringify(set));
  rejects({ 'scheduler.autoscaling.maxReplicas': 'many' }, /maxReplicas/);
  rejects({ 'executor.replicas': 3 }, /additional properties 'replicas'/);
  rejects({ 'global.kafka.saslMechanism': 'kerberos' }, /saslMechanism/);
  rejects({ 'kafka.topics[0].partitions': 0 }, /partitions/);
  rejects({ 'monitor.grpcPort': 70000 }, /grpcPort/);
  // And the templates refuse a SASL mechanism without credentials.
  assert.throws(() => template(UMBRELLA, { set: { 'global.kafka.saslMechanism': 'plain' } }), /needs global\.kafka\.existingSecret/);
});

for (const [name, { text, objects }] of Object.entries(renders)) {
  test(`${name} values: every rendered object is valid for Kubernetes 1.30 and the newest schemas`, () => {
    const { problems, validated } = validateManifests(text);
    assert.deepEqual(problems, []);
    assert.ok(validated >= objects.length, `validated ${validated} of ${objects.length}`);
  });

  test(`${name} values: every pod passes the restricted Pod Security Standard and has a read-only root filesystem`, () => {
    const pods = podSpecs(objects);
    assert.ok(pods.length >= SERVICES.length);
    for (const { id, spec } of pods) {
      const psc = spec.securityContext ?? {};
      assert.equal(psc.seccompProfile?.type, 'RuntimeDefault', `${id}: pod seccompProfile`);
      assert.ok(!spec.hostNetwork && !spec.hostPID && !spec.hostIPC, `${id}: host namespaces`);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        const sc = c.securityContext ?? {};
        const where = `${id} container ${c.name}`;
        assert.equal(sc.runAsNonRoot ?? psc.runAsNonRoot, true, `${where}: runAsNonRoot`);
        assert.notEqual(sc.runAsUser ?? psc.runAsUser, 0, `${where}: runAsUser 0`);
        assert.equal(sc.allowPrivilegeEscalation, false, `${where}: allowPrivilegeEscalation`);
        assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${where}: capabilities.drop`);
        assert.deepEqual(sc.capabilities?.add ?? [], [], `${where}: capabilities.add`);
        assert.ok(!sc.privileged, `${where}: privileged`);
        assert.ok((sc.seccompProfile ?? psc.seccompProfile)?.type === 'RuntimeDefault', `${where}: seccompProfile`);
        assert.equal(sc.readOnlyRootFilesystem, true, `${where}: readOnlyRootFilesystem`);
        assert.ok(c.resources?.requests?.memory && c.resources?.limits?.memory, `${where}: memory request and limit`);
        for (const p of c.ports ?? []) assert.ok(!p.hostPort, `${where}: hostPort`);
      }
      for (const v of spec.volumes ?? []) assert.ok(!v.hostPath, `${id}: hostPath volume ${v.name}`);
    }
  });

  test(`${name} values: every service has gRPC startup, readiness and liveness probes on its gRPC port`, () => {
    for (const { service, deployment } of serviceDeployments(objects)) {
      assert.ok(deployment, `Deployment pipewright-${service}`);
      const [c] = deployment.spec.template.spec.containers;
      const grpcPort = c.ports.find((p) => p.name === 'grpc')?.containerPort;
      assert.ok(grpcPort, `${service}: container port grpc`);
      for (const probe of ['startupProbe', 'readinessProbe', 'livenessProbe']) {
        assert.equal(c[probe]?.grpc?.port, grpcPort, `${service}: ${probe} is a gRPC probe on ${grpcPort}`);
      }
      // Ready means dependencies connected (the whole server); alive means the process answers.
      assert.equal(c.startupProbe.grpc.service, undefined, `${service}: startup asks for the whole server`);
      assert.equal(c.readinessProbe.grpc.service, undefined, `${service}: readiness asks for the whole server`);
      assert.equal(c.livenessProbe.grpc.service, LIVENESS_SERVICE, `${service}: liveness asks for the service the server keeps SERVING while it runs`);
      const cm = find(objects, 'ConfigMap', c.envFrom[0].configMapRef.name);
      assert.equal(cm.data.GRPC_PORT, String(grpcPort), `${service}: GRPC_PORT matches the probed port`);
    }
  });

  test(`${name} values: termination grace outlasts the service's own drain`, () => {
    for (const { service, deployment } of serviceDeployments(objects)) {
      const spec = deployment.spec.template.spec;
      const cm = find(objects, 'ConfigMap', spec.containers[0].envFrom[0].configMapRef.name);
      const drainMs = Number(cm.data.SHUTDOWN_TIMEOUT);
      const preStopMs = (spec.containers[0].lifecycle?.preStop?.sleep?.seconds ?? 0) * 1000;
      assert.ok(drainMs > 0, `${service}: SHUTDOWN_TIMEOUT`);
      assert.ok(spec.terminationGracePeriodSeconds * 1000 >= drainMs + preStopMs + 5000, `${service}: terminationGracePeriodSeconds ${spec.terminationGracePeriodSeconds} vs drain ${drainMs} ms + preStop ${preStopMs} ms`);
    }
  });

  test(`${name} values: Services expose gRPC (and a headless Service for client-side balancing)`, () => {
    for (const { service, deployment } of serviceDeployments(objects)) {
      const selector = deployment.spec.selector.matchLabels;
      const podLabels = deployment.spec.template.metadata.labels;
      for (const [k, v] of Object.entries(selector)) assert.equal(podLabels[k], v, `${service}: pod labels match the selector`);
      for (const svcName of [`pipewright-${service}`, `pipewright-${service}-headless`]) {
        const svc = find(objects, 'Service', svcName);
        assert.ok(svc, `Service ${svcName}`);
        assert.deepEqual(svc.spec.selector, selector, `${svcName} selects the service's pods`);
        const grpc = svc.spec.ports.find((p) => p.name === 'grpc');
        assert.equal(grpc?.targetPort, 'grpc', `${svcName}: grpc port`);
        assert.equal(grpc.appProtocol, 'grpc');
      }
      assert.equal(find(objects, 'Service', `pipewright-${service}-headless`).spec.clusterIP, 'None');
      assert.ok(find(objects, 'PodDisruptionBudget', `pipewright-${service}`), `${service}: PodDisruptionBudget`);
    }
  });

  test(`${name} values: every ConfigMap, Secret and ServiceAccount a pod refers to is rendered or named by the values`, () => {
    const external = new Set(name === 'external' ? ['pipewright-kafka', 'pipewright-database', 'my-cluster-cluster-ca-cert'] : []);
    for (const { id, spec } of podSpecs(objects)) {
      const sa = spec.serviceAccountName;
      if (sa) assert.ok(find(objects, 'ServiceAccount', sa), `${id}: ServiceAccount ${sa}`);
      for (const c of [...(spec.initContainers ?? []), ...spec.containers]) {
        for (const e of c.envFrom ?? []) if (e.configMapRef) assert.ok(find(objects, 'ConfigMap', e.configMapRef.name), `${id}: ConfigMap ${e.configMapRef.name}`);
        for (const e of c.env ?? []) {
          const ref = e.valueFrom?.secretKeyRef;
          if (!ref) continue;
          const secret = find(objects, 'Secret', ref.name);
          if (secret) assert.ok(ref.key in { ...secret.data, ...secret.stringData }, `${id}: key ${ref.key} of Secret ${ref.name}`);
          else assert.ok(external.has(ref.name), `${id}: Secret ${ref.name} is neither rendered nor an external Secret of the values`);
        }
        const volumes = new Set((spec.volumes ?? []).map((v) => v.name));
        for (const m of c.volumeMounts ?? []) assert.ok(volumes.has(m.name) || (spec.volumeClaimTemplates ?? []).some((t) => t.metadata.name === m.name) || m.name === 'data', `${id}: volume ${m.name}`);
      }
      for (const v of spec.volumes ?? []) {
        if (v.configMap) assert.ok(find(objects, 'ConfigMap', v.configMap.name), `${id}: ConfigMap volume ${v.configMap.name}`);
        if (v.secret) assert.ok(find(objects, 'Secret', v.secret.secretName) || external.has(v.secret.secretName), `${id}: Secret volume ${v.secret.secretName}`);
      }
    }
  });
}

test('switched off, the infrastructure is not rendered and the services read Kafka and PostgreSQL settings from Secrets', () => {
  const { objects } = renders.external;
  for (const component of ['kafka', 'postgresql', 'otel-collector', 'jaeger']) {
    assert.deepEqual(objects.filter((o) => o.metadata.name.startsWith(`pipewright-${component}`)).map((o) => o.kind), [], component);
  }
  for (const { service, deployment } of serviceDeployments(objects)) {
    const env = Object.fromEntries(deployment.spec.template.spec.containers[0].env.map((e) => [e.name, e]));
    for (const name of ['KAFKA_BROKERS', 'KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD']) {
      assert.equal(env[name]?.valueFrom?.secretKeyRef?.name, 'pipewright-kafka', `${service}: ${name} from the Kafka Secret`);
    }
    if (env.DATABASE_URL) assert.equal(env.DATABASE_URL.valueFrom.secretKeyRef.name, 'pipewright-database', `${service}: DATABASE_URL`);
    const settings = find(objects, 'ConfigMap', deployment.metadata.name).data;
    assert.equal(settings.KAFKA_SSL_CA, '/etc/pipewright/kafka-ca/ca.crt', `${service}: trusts the brokers' CA (KAFKA_SSL_CA)`);
  }
});

test('the development infrastructure is rendered by default: KRaft Kafka, PostgreSQL, Collector, Jaeger', () => {
  const { objects } = renders.default;
  const kafka = find(objects, 'StatefulSet', 'pipewright-kafka');
  assert.match(kafka.spec.template.spec.containers[0].image, /^apache\/kafka:/);
  const props = find(objects, 'ConfigMap', 'pipewright-kafka').data['server.properties'];
  assert.match(props, /process\.roles=broker,controller/);
  for (const key of ['offsets.topic.replication.factor', 'transaction.state.log.replication.factor', 'transaction.state.log.min.isr', 'share.coordinator.state.topic.replication.factor', 'share.coordinator.state.topic.min.isr']) {
    assert.match(props, new RegExp(`^${key.replaceAll('.', '\\.')}=1$`, 'm'), key);
  }
  assert.match(find(objects, 'StatefulSet', 'pipewright-postgresql').spec.template.spec.containers[0].image, /^postgres:/);
  assert.ok(find(objects, 'Deployment', 'pipewright-otel-collector'));
  assert.ok(find(objects, 'Service', 'pipewright-jaeger').spec.ports.some((p) => p.port === 16686));
  const collector = yaml().parse(find(objects, 'ConfigMap', 'pipewright-otel-collector').data['config.yaml']);
  assert.match(collector.exporters['otlp_grpc/jaeger'].endpoint, /^pipewright-jaeger:4317$/);
  for (const { deployment } of serviceDeployments(objects)) {
    const cm = find(objects, 'ConfigMap', deployment.spec.template.spec.containers[0].envFrom[0].configMapRef.name);
    assert.equal(cm.data.KAFKA_BROKERS, 'pipewright-kafka:9092');
    assert.equal(cm.data.OTEL_EXPORTER_OTLP_ENDPOINT, 'http://pipewright-otel-collector:4318');
  }
});

test('an autoscaling limit above the partition count of a consumed topic is refused, naming the service, the topic and both numbers', () => {
  assert.throws(() => template(UMBRELLA, { set: { 'scheduler.autoscaling.maxReplicas': 20 } }), /scheduler\.autoscaling\.maxReplicas is 20 but its topic (scheduler\.jobs\.ingest|jobs\.status) has 12 partitions/);
  assert.throws(() => template(UMBRELLA, { set: { 'executor.autoscaling.maxReplicas': 16, 'global.kafka.topicPartitions': 24 } }), /executor\.autoscaling\.maxReplicas is 16 but its topic jobs\.due has 12 partitions/);
  const { objects } = render(UMBRELLA, { set: { 'executor.autoscaling.maxReplicas': 24, 'kafka.defaultPartitions': 24 } });
  assert.equal(find(objects, 'HorizontalPodAutoscaler', 'pipewright-executor').spec.maxReplicas, 24);
  // The gateway consumes nothing: its limit is its own business.
  assert.doesNotThrow(() => template(UMBRELLA, { set: { 'ingest-gateway.autoscaling.maxReplicas': 40 } }));
});

test('the topic Job\'s name changes with anything in its spec, not only the topic list', () => {
  const jobName = (set) => render(UMBRELLA, { set }).objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('pipewright-kafka-topics-')).metadata.name;
  const base = jobName({});
  assert.notEqual(jobName({ 'kafka.image.tag': '4.3.0' }), base, 'a new image is a new Job');
  assert.notEqual(jobName({ 'kafka.defaultPartitions': 16 }), base, 'a new partition count is a new Job');
  assert.equal(jobName({}), base, 'the same values, the same Job');
});

test('the topic Job also creates the topics of the apps in global.apps', () => {
  const { objects } = render(UMBRELLA, { setString: { 'global.apps.billing.handler': 'kafka.publish', 'global.apps.billing.options.topic': 'billing.jobs' } });
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('pipewright-kafka-topics-'));
  const script = job.spec.template.spec.containers[0].args[0];
  assert.match(script, /^billing\.jobs 12$/m);
  assert.equal(script.match(/^sms\.jobs /gm).length, 1, 'listed topics appear once');
});

test('the topic Job creates every topic the services use, with at least as many partitions as any HPA has replicas', () => {
  const { objects } = renders.default;
  const job = objects.find((o) => o.kind === 'Job' && o.metadata.name.startsWith('pipewright-kafka-topics-'));
  assert.ok(job, 'topic Job');
  const script = job.spec.template.spec.containers[0].args[0];
  const created = new Map([...script.matchAll(/^([A-Za-z0-9._-]+) (\d+)$/gm)].map((m) => [m[1], Number(m[2])]));
  const { TOPICS } = compiled('packages/contracts/src/topics.ts');
  // With no global.apps the services use the images' own registry.
  const { DEFAULT_APPS_CONFIG, readAppRegistry } = compiled('packages/contracts/src/apps.ts');
  const appTopics = [...readAppRegistry(DEFAULT_APPS_CONFIG).values()].map((a) => a.options.topic).filter(Boolean);
  for (const topic of [...Object.values(TOPICS), ...appTopics]) assert.ok(created.has(topic), `topic ${topic} is created`);
  const hpas = objects.filter((o) => o.kind === 'HorizontalPodAutoscaler');
  assert.ok(hpas.length >= 5, 'the consumer services autoscale');
  const fewest = Math.min(...created.values());
  for (const hpa of hpas) {
    assert.equal(hpa.apiVersion, 'autoscaling/v2');
    assert.equal(hpa.spec.scaleTargetRef.kind, 'Deployment');
    assert.ok(find(objects, 'Deployment', hpa.spec.scaleTargetRef.name), `${hpa.metadata.name} targets a rendered Deployment`);
    assert.ok(hpa.spec.maxReplicas <= fewest, `${hpa.metadata.name}: maxReplicas ${hpa.spec.maxReplicas} > ${fewest} partitions (idle consumers)`);
    assert.equal(find(objects, 'Deployment', hpa.spec.scaleTargetRef.name).spec.replicas, undefined, `${hpa.metadata.name}: the Deployment leaves replicas to the HPA`);
  }
  assert.ok(umbrellaValues.global.kafka.topicPartitions >= Math.max(...hpas.map((h) => h.spec.maxReplicas)), 'topics the services create themselves have enough partitions');
});

test('each service chart also installs on its own', () => {
  const texts = SERVICES.map((s) => {
    const { text, objects } = render(join(CHARTS_DIR, s), { release: s, set: { 'global.kafka.brokers': 'kafka.kafka.svc:9092' } });
    assert.ok(find(objects, 'Deployment', s), `${s}: Deployment named after the release`);
    assert.equal(find(objects, 'ConfigMap', s).data.KAFKA_BROKERS, 'kafka.kafka.svc:9092');
    return text;
  });
  assert.deepEqual(validateManifests(texts.join('\n---\n')).problems, []);
});

test('NOTES.txt tells how to reach the gRPC services and the trace UI', () => {
  const notes = renderNotes(UMBRELLA);
  assert.match(notes, /port-forward svc\/pipewright-ingest-gateway 50051:50051/);
  assert.match(notes, /grpcurl -plaintext (-H "authorization: Bearer \$TOKEN" )?localhost:50051 list/);
  assert.match(notes, /port-forward svc\/pipewright-jaeger 16686:16686/);
  assert.match(notes, /port-forward svc\/pipewright-monitor 8080:8080/);
  for (const s of SERVICES) assert.match(notes, new RegExp(`pipewright-${s}\\.pipewright\\.svc:\\d+`), s);
  const external = renderNotes(UMBRELLA, { valuesFiles: [EXTERNAL_VALUES] });
  assert.match(external, /bootstrap servers from Secret pipewright-kafka, TLS, SASL scram-sha-512/);
  assert.doesNotMatch(external, /16686/);
  const one = renderNotes(join(CHARTS_DIR, 'scheduler'), { release: 'scheduler' });
  assert.match(one, /port-forward svc\/scheduler 50052:50052/);
});

test('the optional parts render valid objects when switched: NetworkPolicy, fixed replicas, no persistence', () => {
  const set = {
    'scheduler.networkPolicy.enabled': true,
    'monitor.networkPolicy.enabled': true,
    'scheduler.autoscaling.enabled': false,
    'scheduler.replicaCount': 3,
    'scheduler.service.headless': false,
    'scheduler.podDisruptionBudget.enabled': false,
    'scheduler.extraEnv[0].name': 'SCHEDULER_FIRE_BATCH',
    'scheduler.extraEnv[0].value': '500',
    'scheduler.preStopSleepSeconds': 0,
    'kafka.persistence.enabled': false,
    'postgresql.persistence.enabled': false,
    'jaeger.enabled': false,
    'global.otel.endpoint': '',
  };
  const { text, objects } = render(UMBRELLA, { set });
  assert.deepEqual(validateManifests(text).problems, []);
  const scheduler = find(objects, 'Deployment', 'pipewright-scheduler');
  assert.equal(scheduler.spec.replicas, 3);
  assert.equal(find(objects, 'HorizontalPodAutoscaler', 'pipewright-scheduler'), undefined);
  assert.equal(find(objects, 'Service', 'pipewright-scheduler-headless'), undefined);
  assert.equal(find(objects, 'PodDisruptionBudget', 'pipewright-scheduler'), undefined);
  const [c] = scheduler.spec.template.spec.containers;
  assert.equal(c.lifecycle, undefined, 'no preStop hook at 0 seconds');
  assert.ok(c.env.some((e) => e.name === 'SCHEDULER_FIRE_BATCH' && e.value === '500'));
  assert.equal(find(objects, 'ConfigMap', 'pipewright-scheduler').data.OTEL_SDK_DISABLED, 'true', 'tracing off without an endpoint');
  const policy = find(objects, 'NetworkPolicy', 'pipewright-monitor');
  assert.deepEqual(policy.spec.ingress.map((r) => r.ports[0].port).sort(), ['grpc', 'http', 'metrics']);
  for (const sts of ['pipewright-kafka', 'pipewright-postgresql']) {
    const s = find(objects, 'StatefulSet', sts);
    assert.equal(s.spec.volumeClaimTemplates, undefined, sts);
    assert.ok(s.spec.template.spec.volumes.some((v) => v.name === 'data' && v.emptyDir), `${sts}: emptyDir data`);
  }
  const collector = yaml().parse(find(objects, 'ConfigMap', 'pipewright-otel-collector').data['config.yaml']);
  assert.deepEqual(collector.service.pipelines.traces.exporters, ['debug'], 'without Jaeger the collector still has an exporter');
});

test('helm package follows the chart links: the packaged umbrella renders the same objects', () => {
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-package-'));
  try {
    helm(['package', UMBRELLA, '--destination', dir]);
    const packaged = render(join(dir, readdirSync(dir)[0])).objects;
    const ids = (objects) => objects.map((o) => `${o.kind}/${o.metadata.name}`).sort();
    assert.deepEqual(ids(packaged), ids(renders.default.objects));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

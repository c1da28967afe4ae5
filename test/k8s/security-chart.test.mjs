// The chart's secure configuration, rendered offline: gRPC bearer tokens on by default (the
// release's tokens Secret mounted as the tokens file, the monitor's own token for its calls),
// Kafka TLS and a SCRAM user per service from Secrets, and each service's Strimzi KafkaUser
// holding exactly the ACLs of the one table (scripts/lib/kafka-acls.mjs).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { SERVICES, UMBRELLA, find, podSpecs, render, renderNotes, validateManifests } from '../../scripts/lib/k8s-charts.mjs';
import { kafkaAcls, readApps } from '../../scripts/lib/kafka-acls.mjs';

const { readTokens } = createRequire(import.meta.url)('@pipewright/platform');

const { objects } = render(UMBRELLA);
const deployment = (objs, service) => find(objs, 'Deployment', `pipewright-${service}`);
const settingsOf = (objs, service) => find(objs, 'ConfigMap', `pipewright-${service}`).data;
const containerOf = (objs, service) => deployment(objs, service).spec.template.spec.containers[0];

const LOCKED = {
  'global.kafka.tls': true,
  'global.kafka.caSecret.name': 'my-cluster-cluster-ca-cert',
  'global.kafka.clientCertSecret.name': 'pipewright-kafka-client',
  'global.kafka.users.enabled': true,
  'global.kafka.users.strimzi.enabled': true,
  'global.kafka.users.strimzi.cluster': 'my-cluster',
};

test('by default every service asks for a bearer token, read from the release\'s tokens Secret mounted as GRPC_TOKENS_FILE', () => {
  for (const service of SERVICES) {
    const settings = settingsOf(objects, service);
    assert.equal(settings.GRPC_AUTH, 'on', `${service}: GRPC_AUTH`);
    assert.equal(settings.GRPC_TOKENS_FILE, '/etc/pipewright/grpc/tokens.json', `${service}: GRPC_TOKENS_FILE`);
    const spec = deployment(objects, service).spec.template.spec;
    const volume = spec.volumes.find((v) => v.name === 'grpc-tokens');
    assert.equal(volume?.secret?.secretName, 'pipewright-grpc-tokens', `${service}: the tokens Secret`);
    assert.deepEqual(containerOf(objects, service).volumeMounts.find((m) => m.name === 'grpc-tokens'), { name: 'grpc-tokens', mountPath: '/etc/pipewright/grpc', readOnly: true });
    // Only the monitor calls the others, so only it holds a token of its own.
    const paths = volume.secret.items.map((i) => i.path);
    assert.deepEqual(paths, service === 'monitor' ? ['tokens.json', 'call.token'] : ['tokens.json'], `${service}: the files it is given`);
    assert.equal('GRPC_CALL_TOKEN_FILE' in settings, service === 'monitor', `${service}: GRPC_CALL_TOKEN_FILE`);
  }
  // The probes ask grpc.health.v1, which stays open without a token.
  for (const service of SERVICES) assert.ok(containerOf(objects, service).readinessProbe.grpc, `${service}: gRPC readiness probe`);
});

test('the tokens Secret is a tokens file the services accept, with a read token for the monitor and an operator token, kept on uninstall', () => {
  const secret = find(objects, 'Secret', 'pipewright-grpc-tokens');
  assert.ok(secret, 'the umbrella chart makes the tokens Secret');
  assert.equal(secret.metadata.annotations['helm.sh/resource-policy'], 'keep');
  const dir = mkdtempSync(join(tmpdir(), 'pw-tokens-'));
  try {
    const file = join(dir, 'tokens.json');
    writeFileSync(file, secret.stringData['tokens.json']);
    // The platform's own reader: what the services do at start-up.
    const tokens = readTokens(file);
    assert.deepEqual(tokens.map((t) => [t.name, [...t.scopes]]), [['monitor', ['read']], ['operator', ['read', 'write', 'control']]]);
    const parsed = JSON.parse(secret.stringData['tokens.json']).tokens;
    assert.equal(parsed[0].token, secret.stringData['monitor.token'], "monitor.token is the monitor's entry");
    assert.equal(parsed[1].token, secret.stringData['operator.token']);
    assert.ok(parsed.every((t) => t.token.length >= 32), 'generated tokens are long');
    assert.notEqual(parsed[0].token, parsed[1].token);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  // Another release's render makes other tokens (nothing fixed in the chart).
  assert.notEqual(find(render(UMBRELLA).objects, 'Secret', 'pipewright-grpc-tokens').stringData['monitor.token'], secret.stringData['monitor.token']);
});

test("NOTES.txt shows grpcurl with the operator token from the release's Secret, and without one when tokens are off", () => {
  assert.match(renderNotes(UMBRELLA), /TOKEN=\$\(kubectl -n pipewright get secret pipewright-grpc-tokens -o jsonpath='\{\.data\.operator\\\.token\}' \| base64 -d\)\n\s+grpcurl -plaintext -H "authorization: Bearer \$TOKEN" localhost:50051 list/);
  assert.match(renderNotes(UMBRELLA, { set: { 'global.grpc.auth.enabled': false } }), /\n\s+grpcurl -plaintext localhost:50051 list/);
});

test('with global.grpc.auth.enabled false no token is asked for and no Secret is made', () => {
  const off = render(UMBRELLA, { set: { 'global.grpc.auth.enabled': false } }).objects;
  assert.equal(find(off, 'Secret', 'pipewright-grpc-tokens'), undefined);
  for (const service of SERVICES) {
    assert.equal(settingsOf(off, service).GRPC_AUTH, undefined, service);
    assert.ok(!deployment(off, service).spec.template.spec.volumes.some((v) => v.name === 'grpc-tokens'), service);
  }
});

test('Kafka locked down from Secrets: TLS with the cluster CA and a client certificate, and each service logs in as its own SCRAM user', () => {
  const locked = render(UMBRELLA, { set: LOCKED }).objects;
  for (const service of SERVICES) {
    const settings = settingsOf(locked, service);
    assert.equal(settings.KAFKA_SSL, 'true');
    assert.equal(settings.KAFKA_SSL_CA, '/etc/pipewright/kafka-ca/ca.crt');
    assert.equal(settings.KAFKA_SSL_CERT, '/etc/pipewright/kafka-client/tls.crt');
    assert.equal(settings.KAFKA_SSL_KEY, '/etc/pipewright/kafka-client/tls.key');
    assert.equal(settings.KAFKA_SASL_MECHANISM, 'scram-sha-512');
    assert.equal(settings.KAFKA_SASL_USERNAME, `pipewright-${service}`, `${service}: its own user`);
    const password = containerOf(locked, service).env.find((e) => e.name === 'KAFKA_SASL_PASSWORD');
    assert.deepEqual(password?.valueFrom?.secretKeyRef, { name: `pipewright-${service}`, key: 'password' }, `${service}: the password Strimzi keeps for the user`);
    const volumes = Object.fromEntries(deployment(locked, service).spec.template.spec.volumes.map((v) => [v.name, v.secret?.secretName]));
    assert.equal(volumes['kafka-ca'], 'my-cluster-cluster-ca-cert');
    assert.equal(volumes['kafka-client'], 'pipewright-kafka-client');
  }
});

/** A KafkaUser's ACLs in the table's terms, sorted. */
const aclsOf = (user) => user.spec.authorization.acls.flatMap((a) => a.operations.map((op) => `${a.resource.type} ${a.resource.patternType} ${a.resource.name} ${op}`)).sort();
const tableOf = (table, service) => (table.find((t) => t.service === service)?.acls ?? []).flatMap((a) => a.operations.map((op) => `${a.resource} ${a.pattern} ${a.name} ${op}`)).sort();

test('each service\'s KafkaUser holds exactly the ACLs of the table, for the images\' app registry and for the release\'s own', () => {
  const users = render(UMBRELLA, { set: LOCKED }).objects.filter((o) => o.kind === 'KafkaUser');
  assert.deepEqual(users.map((u) => u.metadata.name).sort(), SERVICES.map((s) => `pipewright-${s}`).sort());
  const table = kafkaAcls({ userPrefix: 'pipewright-' });
  for (const user of users) {
    const service = user.metadata.name.replace(/^pipewright-/, '');
    assert.equal(user.apiVersion, 'kafka.strimzi.io/v1beta2');
    assert.equal(user.metadata.labels['strimzi.io/cluster'], 'my-cluster');
    assert.deepEqual(user.spec.authentication, { type: 'scram-sha-512' });
    assert.equal(user.spec.authorization.type, 'simple');
    assert.deepEqual(aclsOf(user), tableOf(table, service), `${service}: ACLs`);
  }
  // The release's own registry: its kafka.publish apps, each with its topic or its prefix.
  const apps = { alerts: { handler: 'kafka.publish', options: { topic: 'alerts.out' } }, exports: { handler: 'kafka.publish', options: {} }, quiet: { handler: 'noop', options: {} } };
  const set = { ...LOCKED };
  for (const [name, app] of Object.entries(apps)) {
    set[`global.apps.${name}.handler`] = app.handler;
    if (app.options.topic) set[`global.apps.${name}.options.topic`] = app.options.topic;
  }
  const executor = find(render(UMBRELLA, { set }).objects, 'KafkaUser', 'pipewright-executor');
  assert.deepEqual(aclsOf(executor), tableOf(kafkaAcls({ apps, userPrefix: 'pipewright-' }), 'executor'));
  assert.ok(aclsOf(executor).includes('topic prefixed exports. Write'));
  assert.ok(!aclsOf(executor).includes('topic literal sms.jobs Write'), "the images' apps are not granted when the release names its own");
  assert.notDeepEqual(readApps(), apps);
});

test('the locked-down render is valid for Kubernetes (the KafkaUsers are Strimzi\'s kind) and its pods still pass the restricted checks', () => {
  const { text, objects: locked } = render(UMBRELLA, { set: LOCKED });
  const core = text.split(/^---$/m).filter((doc) => !/^kind: KafkaUser$/m.test(doc)).join('---');
  const { problems, validated } = validateManifests(core);
  assert.deepEqual(problems, []);
  assert.ok(validated > 0);
  for (const { id, spec } of podSpecs(locked)) {
    for (const c of spec.containers) {
      assert.equal(c.securityContext?.allowPrivilegeEscalation, false, `${id}: allowPrivilegeEscalation`);
      assert.equal(c.securityContext?.readOnlyRootFilesystem, true, `${id}: read-only root`);
      assert.deepEqual(c.securityContext?.capabilities?.drop, ['ALL'], `${id}: capabilities`);
    }
  }
  assert.throws(() => render(UMBRELLA, { set: { ...LOCKED, 'global.kafka.users.strimzi.cluster': '' } }), /global\.kafka\.users\.strimzi\.cluster .* is required/);
});

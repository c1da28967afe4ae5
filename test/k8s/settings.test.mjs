// Every setting a service requires at start-up is provided by its chart, every variable the
// chart sets is one the service declares, and every plain value parses as the service parses
// it. The settings are read from the services' compiled config modules, not from a list here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXTERNAL_VALUES, ROOT, SERVICES, UMBRELLA, compiled, find, render, serviceSettings } from '../../scripts/lib/k8s-charts.mjs';

/** Variables the runtime reads besides the service's own settings. */
const RUNTIME_VARIABLE = /^(OTEL_[A-Z_]+|POD_NAME|POD_NAMESPACE)$/;

/** The container environment of a rendered Deployment: name -> {value} | {secret} | {field}. */
function containerEnvironment(objects, deployment) {
  const [c] = deployment.spec.template.spec.containers;
  const env = new Map();
  for (const from of c.envFrom ?? []) {
    assert.ok(from.configMapRef, `${deployment.metadata.name}: envFrom is a ConfigMap`);
    const cm = find(objects, 'ConfigMap', from.configMapRef.name);
    assert.ok(cm, `ConfigMap ${from.configMapRef.name}`);
    for (const [k, v] of Object.entries(cm.data ?? {})) env.set(k, { value: v });
  }
  for (const e of c.env ?? []) {
    if ('value' in e) env.set(e.name, { value: String(e.value) });
    else if (e.valueFrom?.secretKeyRef) env.set(e.name, { secret: e.valueFrom.secretKeyRef });
    else if (e.valueFrom?.fieldRef) env.set(e.name, { field: e.valueFrom.fieldRef.fieldPath });
    else assert.fail(`${deployment.metadata.name}: ${e.name} has no value`);
  }
  return env;
}

const renders = {
  default: render(UMBRELLA).objects,
  external: render(UMBRELLA, { valuesFiles: [EXTERNAL_VALUES] }).objects,
};

for (const service of SERVICES) {
  test(`${service}: its chart provides every required setting, and only settings it declares`, (t) => {
    const settings = serviceSettings(service);
    if (!settings) return t.skip(`services/${service}/src/config.ts does not exist yet`);
    const declared = new Map(settings.described.map((s) => [s.name, s]));
    assert.ok(declared.has('KAFKA_BROKERS') && declared.has('GRPC_PORT'), `${service}: the settings were read`);
    for (const [name, objects] of Object.entries(renders)) {
      const deployment = find(objects, 'Deployment', `pipewright-${service}`);
      assert.ok(deployment, `${name}: Deployment pipewright-${service}`);
      const env = containerEnvironment(objects, deployment);
      for (const s of declared.values()) {
        if (!s.required) continue;
        const got = env.get(s.name);
        assert.ok(got, `${name} values: ${service} requires ${s.name} (${s.description}) but its chart does not set it`);
        if (s.secret) assert.ok(got.secret, `${name} values: ${s.name} is secret and must come from a Secret, not a plain value`);
        if ('value' in got) assert.notEqual(got.value.trim(), '', `${name} values: ${s.name} is empty`);
      }
      for (const [variable, got] of env) {
        if (RUNTIME_VARIABLE.test(variable)) continue;
        const s = declared.get(variable);
        assert.ok(s, `${name} values: the chart sets ${variable}, which ${service} does not declare`);
        if (s.secret) assert.ok(!('value' in got), `${name} values: secret ${variable} is a plain value`);
        if ('value' in got) {
          assert.doesNotThrow(() => settings.spec[variable].parse(got.value), `${name} values: ${variable}=${got.value} is not what ${service} accepts`);
        }
      }
    }
  });
}

const REGISTRY_READERS = ['ingest-gateway', 'scheduler', 'executor'];

/** The app registry file a rendered Deployment's APPS_CONFIG names, read from its ConfigMap. */
function mountedRegistry(objects, deployment, label) {
  const spec = deployment.spec.template.spec;
  const path = containerEnvironment(objects, deployment).get('APPS_CONFIG')?.value;
  assert.ok(path, `${label}: APPS_CONFIG is set`);
  const mount = spec.containers[0].volumeMounts.find((m) => path.startsWith(`${m.mountPath}/`));
  assert.ok(mount, `${label}: ${path} is on a mounted volume`);
  const cmName = spec.volumes.find((v) => v.name === mount.name)?.configMap?.name;
  const cm = find(objects, 'ConfigMap', cmName);
  assert.ok(cm, `${label}: the app registry ConfigMap ${cmName}`);
  assert.ok(deployment.spec.template.metadata.annotations['checksum/apps'], `${label}: pods roll when the registry changes`);
  return { file: cm.data[path.slice(mount.mountPath.length + 1)], cmName };
}

test('with no registry in the values, the gateway, scheduler and executor use the image\'s own', () => {
  for (const [name, objects] of Object.entries(renders)) {
    for (const service of REGISTRY_READERS) {
      const deployment = find(objects, 'Deployment', `pipewright-${service}`);
      assert.equal(containerEnvironment(objects, deployment).get('APPS_CONFIG'), undefined, `${name}: ${service} keeps the image default`);
    }
  }
  // Which is what the executor loads with no APPS_CONFIG.
  const { settings } = compiled('services/executor/src/config.ts');
  assert.equal(settings.APPS_CONFIG.defaultRaw, join(ROOT, 'packages/contracts/apps.default.json'));
});

test('global.apps gives the gateway, the scheduler and the executor one registry, which the executor loads', () => {
  const { parseRegistry } = compiled('services/executor/src/registry.ts');
  const apps = {
    sms: { handler: 'kafka.publish', options: { topic: 'sms.jobs' } },
    billing: { handler: 'http', options: { url: 'http://billing.payments:8080/run', timeoutMs: 5000 } },
  };
  const valuesFile = join(mkdtempSync(join(tmpdir(), 'pw-values-')), 'apps.yaml');
  writeFileSync(valuesFile, JSON.stringify({ global: { apps } }));
  const objects = render(UMBRELLA, { valuesFiles: [valuesFile] }).objects;
  for (const service of REGISTRY_READERS) {
    const deployment = find(objects, 'Deployment', `pipewright-${service}`);
    const { file, cmName } = mountedRegistry(objects, deployment, service);
    assert.deepEqual(JSON.parse(file), { apps }, `${service}: ${cmName} holds global.apps`);
    assert.deepEqual([...parseRegistry(file, cmName).keys()].sort(), ['billing', 'sms']);
  }
  for (const service of SERVICES.filter((s) => !REGISTRY_READERS.includes(s))) {
    const deployment = find(objects, 'Deployment', `pipewright-${service}`);
    assert.equal(containerEnvironment(objects, deployment).get('APPS_CONFIG'), undefined, `${service} does not read the registry`);
  }
});

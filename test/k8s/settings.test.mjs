// Every setting a service requires at start-up is provided by its chart, every variable the
// chart sets is one the service declares, and every plain value parses as the service parses
// it. The settings are read from the services' compiled config modules, not from a list here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXTERNAL_VALUES, ROOT, SERVICES, UMBRELLA, compiled, find, render, serviceSettings } from '../../scripts/lib/k8s-charts.mjs';

/** Variables the runtime reads besides the service's own settings. */
const RUNTIME_VARIABLE = /^(OTEL_[A-Z_]+|NODE_EXTRA_CA_CERTS|POD_NAME|POD_NAMESPACE)$/;

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

test('executor: the app registry the chart mounts is one the executor loads', (t) => {
  const settings = serviceSettings('executor');
  if (!settings) return t.skip('services/executor/src/config.ts does not exist yet');
  const { parseRegistry } = compiled('services/executor/src/registry.ts');
  for (const [name, objects] of Object.entries(renders)) {
    const deployment = find(objects, 'Deployment', 'pipewright-executor');
    const spec = deployment.spec.template.spec;
    const path = containerEnvironment(objects, deployment).get('APPS_CONFIG')?.value;
    assert.ok(path, `${name}: APPS_CONFIG is set`);
    const mount = spec.containers[0].volumeMounts.find((m) => path.startsWith(`${m.mountPath}/`));
    assert.ok(mount, `${name}: ${path} is on a mounted volume`);
    const cmName = spec.volumes.find((v) => v.name === mount.name)?.configMap?.name;
    const cm = find(objects, 'ConfigMap', cmName);
    assert.ok(cm, `${name}: the app registry ConfigMap ${cmName}`);
    const file = cm.data[path.slice(mount.mountPath.length + 1)];
    const registry = parseRegistry(file, `${cmName} (${name} values)`);
    for (const app of ['sms', 'sipcall', 'payment_gateway']) assert.ok(registry.has(app), `${name}: app ${app}`);
    // The chart's default registry is the image's own default.
    const imageDefault = JSON.parse(readFileSync(join(ROOT, 'services/executor/apps.default.json'), 'utf8'));
    assert.deepEqual(JSON.parse(file), imageDefault, `${name}: charts/executor/values.yaml apps differ from services/executor/apps.default.json`);
  }
});

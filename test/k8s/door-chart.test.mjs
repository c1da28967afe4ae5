// The ingest-gateway's HTTP/JSON door in the chart: the port named http on its pods and Service
// (INGEST_HTTP_PORT), the other services of the release as its upstreams (INGEST_HTTP_UPSTREAMS,
// each at its Service and the port its pods serve gRPC on), and NetworkPolicies that admit
// callers to the door and the gateway's pods to every service it forwards to.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CHARTS_DIR, SERVICES, UMBRELLA, compiled, find, render, renderNotes, template, validateManifests } from '../../scripts/lib/k8s-charts.mjs';

const { upstreamsOf } = compiled('services/ingest-gateway/src/http.ts');
const { settings } = compiled('services/ingest-gateway/src/config.ts');

const GATEWAY = 'pipewright-ingest-gateway';
const OTHERS = SERVICES.filter((s) => s !== 'ingest-gateway');
const settingsOf = (objects) => find(objects, 'ConfigMap', GATEWAY).data;
const containerOf = (objects, name = GATEWAY) => find(objects, 'Deployment', name).spec.template.spec.containers[0];
/** INGEST_HTTP_UPSTREAMS as service name -> address. */
const upstreams = (objects) => Object.fromEntries(settingsOf(objects).INGEST_HTTP_UPSTREAMS.split(',').map((e) => e.split('=')));
/** Whether a NetworkPolicy `from` peer selects pods with these labels (same namespace). */
const admits = (peer, labels) => !peer.namespaceSelector && !peer.ipBlock && Object.entries(peer.podSelector?.matchLabels ?? {}).every(([k, v]) => labels[k] === v);

const { objects } = render(UMBRELLA);

test("the door is the gateway's container and Service port named http, on INGEST_HTTP_PORT", () => {
  assert.equal(containerOf(objects).ports.find((p) => p.name === 'http')?.containerPort, 8081);
  for (const name of [GATEWAY, `${GATEWAY}-headless`]) {
    assert.deepEqual(
      find(objects, 'Service', name).spec.ports.find((p) => p.name === 'http'),
      { name: 'http', port: 8081, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
      name,
    );
  }
  assert.equal(settingsOf(objects).INGEST_HTTP_PORT, '8081');
  assert.equal(settings.INGEST_HTTP_PORT.parse(settingsOf(objects).INGEST_HTTP_PORT), 8081);

  const moved = render(UMBRELLA, { set: { 'ingest-gateway.http.port': 18081 } }).objects;
  assert.equal(containerOf(moved).ports.find((p) => p.name === 'http').containerPort, 18081);
  assert.equal(find(moved, 'Service', GATEWAY).spec.ports.find((p) => p.name === 'http').port, 18081);
  assert.equal(settingsOf(moved).INGEST_HTTP_PORT, '18081');
});

test("the door forwards to every other service of the release, at its Service and the port its pods serve gRPC on", () => {
  const addresses = upstreams(objects);
  assert.deepEqual(Object.keys(addresses).sort(), [...OTHERS].sort());
  for (const [service, address] of Object.entries(addresses)) {
    const [host, port] = address.split(':');
    const svc = find(objects, 'Service', host);
    assert.ok(svc, `${service}: Service ${host} is rendered`);
    assert.notEqual(svc.spec.clusterIP, 'None', `${service}: the balanced Service, not the headless one`);
    assert.equal(svc.spec.ports.find((p) => p.name === 'grpc')?.port, Number(port), `${service}: its Service's grpc port`);
    assert.equal(containerOf(objects, `pipewright-${service}`).ports.find((p) => p.name === 'grpc').containerPort, Number(port), `${service}: its pods' grpc port`);
  }
  // The gateway takes them as they are: a malformed entry would stop it at start-up.
  const parsed = upstreamsOf(settings.INGEST_HTTP_UPSTREAMS.parse(settingsOf(objects).INGEST_HTTP_UPSTREAMS));
  assert.ok(parsed.some((u) => u.grpcService === 'pipewright.scheduler.v1.Scheduler' && u.address === 'pipewright-scheduler:50052'));
  assert.ok(parsed.some((u) => u.grpcService === 'pipewright.monitor.v1.Monitor' && u.address === 'pipewright-monitor:50057'));
});

test('the upstreams follow the release name, and http.upstreams replaces the address of one service', () => {
  const alone = render(join(CHARTS_DIR, 'ingest-gateway'), { release: 'edge', set: { 'global.kafka.brokers': 'kafka:9092' } }).objects;
  assert.equal(find(alone, 'ConfigMap', 'edge-ingest-gateway').data.INGEST_HTTP_UPSTREAMS.split(',').find((e) => e.startsWith('scheduler=')), 'scheduler=edge-scheduler:50052');
  // A release named after a service names that service's objects after the release alone.
  const named = render(UMBRELLA, { release: 'monitor' }).objects;
  const monitorAddress = Object.fromEntries(find(named, 'ConfigMap', 'monitor-ingest-gateway').data.INGEST_HTTP_UPSTREAMS.split(',').map((e) => e.split('='))).monitor;
  assert.equal(monitorAddress, 'monitor:50057');
  assert.ok(find(named, 'Service', 'monitor'), 'the monitor\'s Service in release monitor');

  const dir = mkdtempSync(join(tmpdir(), 'pipewright-door-'));
  const file = join(dir, 'values.yaml');
  writeFileSync(file, "ingest-gateway:\n  http:\n    upstreams:\n      stock-processor: '{{ .Release.Name }}-stocks.other.svc:6000'\n");
  const given = render(UMBRELLA, { valuesFiles: [file] }).objects;
  rmSync(dir, { recursive: true, force: true });
  assert.equal(upstreams(given)['stock-processor'], 'pipewright-stocks.other.svc:6000');
  assert.equal(upstreams(given).scheduler, 'pipewright-scheduler:50052');
  assert.throws(() => render(UMBRELLA, { setString: { 'ingest-gateway.http.upstreams.billing': 'x:1' } }), /upstreams/);
});

test("a service given another grpcPort is refused unless the door is given its address", () => {
  assert.throws(() => template(UMBRELLA, { set: { 'scheduler.grpcPort': 6000 } }), /scheduler\.grpcPort is 6000 but the gateway's HTTP\/JSON door forwards to scheduler at 50052: give its address as ingest-gateway\.http\.upstreams\.scheduler/);
  const given = render(UMBRELLA, { set: { 'scheduler.grpcPort': 6000 }, setString: { 'ingest-gateway.http.upstreams.scheduler': 'pipewright-scheduler:6000' } }).objects;
  assert.equal(upstreams(given).scheduler, 'pipewright-scheduler:6000');
  assert.equal(find(given, 'Service', 'pipewright-scheduler').spec.ports.find((p) => p.name === 'grpc').port, 6000);
  assert.doesNotThrow(() => template(UMBRELLA, { set: { 'scheduler.grpcPort': 6000, 'scheduler.enabled': false } }), 'no scheduler in the release');
});

test('with http.enabled false the door is off (INGEST_HTTP=false) and not a port of the pod, the Service or the NetworkPolicy', () => {
  const off = render(UMBRELLA, { set: { 'ingest-gateway.http.enabled': false, 'ingest-gateway.networkPolicy.enabled': true } }).objects;
  assert.equal(settings.INGEST_HTTP.parse(settingsOf(off).INGEST_HTTP), false);
  assert.equal(settings.INGEST_HTTP.parse(settingsOf(objects).INGEST_HTTP), true, 'on by default');
  assert.equal(containerOf(off).ports.find((p) => p.name === 'http'), undefined);
  assert.equal(find(off, 'Service', GATEWAY).spec.ports.find((p) => p.name === 'http'), undefined);
  assert.deepEqual(find(off, 'NetworkPolicy', GATEWAY).spec.ingress.map((r) => r.ports[0].port).sort(), ['grpc', 'metrics']);
});

test("NetworkPolicies admit callers to the door's http port and the gateway's pods to the gRPC port of every service it forwards to", () => {
  const callers = { 'app.kubernetes.io/name': 'api-client' };
  const set = {};
  for (const s of SERVICES) {
    set[`${s}.networkPolicy.enabled`] = true;
    set[`${s}.networkPolicy.grpcFrom[0].podSelector.matchLabels.app\\.kubernetes\\.io/name`] = 'api-client';
  }
  const { text, objects: locked } = render(UMBRELLA, { set });
  assert.deepEqual(validateManifests(text).problems, []);
  const gatewayPods = find(locked, 'Deployment', GATEWAY).spec.template.metadata.labels;
  const monitorPods = find(locked, 'Deployment', 'pipewright-monitor').spec.template.metadata.labels;

  const door = find(locked, 'NetworkPolicy', GATEWAY).spec.ingress.find((r) => r.ports.some((p) => p.port === 'http'));
  assert.ok(door, 'a rule for the http port');
  assert.ok(door.from.some((peer) => admits(peer, callers)), 'the grpcFrom callers reach the door');
  assert.ok(!door.from.some((peer) => admits(peer, monitorPods)), 'and only they');

  for (const service of Object.keys(upstreams(locked))) {
    const policy = find(locked, 'NetworkPolicy', `pipewright-${service}`);
    const grpc = policy.spec.ingress.find((r) => r.ports.some((p) => p.port === 'grpc'));
    assert.ok(grpc.from.some((peer) => admits(peer, gatewayPods)), `${service}: the gateway's pods reach its gRPC port`);
    assert.ok(grpc.from.some((peer) => admits(peer, callers)), `${service}: grpcFrom is kept`);
    assert.ok(!grpc.from.some((peer) => admits(peer, monitorPods)), `${service}: no one else`);
    const metrics = policy.spec.ingress.find((r) => r.ports.some((p) => p.port === 'metrics'));
    assert.deepEqual(metrics.from, [{ podSelector: {} }], `${service}: the metrics port is left as metricsFrom says`);
  }

  // Without grpcFrom every pod of the namespace is admitted, the gateway's among them.
  const open = render(UMBRELLA, { set: { 'scheduler.networkPolicy.enabled': true } }).objects;
  assert.deepEqual(find(open, 'NetworkPolicy', 'pipewright-scheduler').spec.ingress.find((r) => r.ports[0].port === 'grpc').from, [{ podSelector: {} }]);
});

test("the NOTES of the gateway's chart and of the umbrella say how to reach the door, with the token when tokens are on", () => {
  const notes = renderNotes(join(CHARTS_DIR, 'ingest-gateway'), { release: 'edge' });
  assert.match(notes, /port-forward svc\/edge-ingest-gateway 8081:8081\n  curl -s -H "authorization: Bearer \$TOKEN" 'http:\/\/127\.0\.0\.1:8081\/v1\/jobs\?page_size=5'/);
  const umbrella = renderNotes(UMBRELLA);
  assert.match(umbrella, /TOKEN=\$\(kubectl[^\n]*operator\\\.token[\s\S]*port-forward svc\/pipewright-ingest-gateway 8081:8081\n  curl -s -H "authorization: Bearer \$TOKEN" 'http:\/\/127\.0\.0\.1:8081\/v1\/jobs/);
  const open = renderNotes(UMBRELLA, { set: { 'global.grpc.auth.enabled': false } });
  assert.match(open, /curl -s 'http:\/\/127\.0\.0\.1:8081\/v1\/jobs/);
  assert.doesNotMatch(renderNotes(UMBRELLA, { set: { 'ingest-gateway.http.enabled': false } }), /8081/);
});

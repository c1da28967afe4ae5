// The monitor's chart: its metrics (consumer lag, group statuses, DLQ depths) are announced for
// scraping and, with the Prometheus Operator, scraped by a PodMonitor; the overview asks every
// service of the release for its health through its headless Service.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { CHARTS_DIR, SERVICES, UMBRELLA, find, render, renderNotes, validateManifests } from '../../scripts/lib/k8s-charts.mjs';

const { objects } = render(UMBRELLA);

test('the monitor announces its metrics port for scraping, on the pod and on its Service, with one replica', () => {
  const deployment = find(objects, 'Deployment', 'pipewright-monitor');
  assert.equal(deployment.spec.replicas, 1, 'one replica: the lag would be counted once per replica');
  const annotations = deployment.spec.template.metadata.annotations;
  assert.equal(annotations['prometheus.io/scrape'], 'true');
  assert.equal(annotations['prometheus.io/path'], '/metrics');
  const [c] = deployment.spec.template.spec.containers;
  const metrics = c.ports.find((p) => p.name === 'metrics');
  assert.equal(annotations['prometheus.io/port'], String(metrics.containerPort));
  const service = find(objects, 'Service', 'pipewright-monitor');
  assert.ok(service.spec.ports.some((p) => p.name === 'metrics' && p.targetPort === 'metrics'));
  assert.equal(find(objects, 'PodMonitor', 'pipewright-monitor'), undefined, 'no PodMonitor unless asked for');
});

test('with podMonitor.enabled, a PodMonitor scrapes the metrics port of the monitor pods only, keeping their labels', () => {
  const { text, objects: switched } = render(UMBRELLA, { set: { 'monitor.podMonitor.enabled': true, 'monitor.podMonitor.labels.release': 'kube-prometheus-stack', 'monitor.podMonitor.interval': '15s' } });
  const pm = find(switched, 'PodMonitor', 'pipewright-monitor');
  assert.ok(pm);
  assert.equal(pm.apiVersion, 'monitoring.coreos.com/v1');
  assert.equal(pm.metadata.labels.release, 'kube-prometheus-stack');
  assert.deepEqual(pm.spec.namespaceSelector.matchNames, ['pipewright']);
  assert.deepEqual(pm.spec.podMetricsEndpoints, [{ port: 'metrics', path: '/metrics', interval: '15s', scrapeTimeout: '10s', honorLabels: true }]);
  const selects = (labels) => Object.entries(pm.spec.selector.matchLabels).every(([k, v]) => labels?.[k] === v);
  const selected = switched.filter((o) => o.kind === 'Deployment' && selects(o.spec.template.metadata.labels));
  assert.deepEqual(
    selected.map((d) => d.metadata.name),
    ['pipewright-monitor'],
  );
  // Kubernetes' own schemas do not describe the Prometheus Operator's kinds: the rest is checked.
  const others = text
    .split(/^---$/m)
    .filter((doc) => !/kind:\s*PodMonitor/.test(doc))
    .join('\n---\n');
  assert.deepEqual(validateManifests(others).problems, []);
});

test("the overview asks every service of the release through its headless Service, at its chart's gRPC port", () => {
  const settings = find(objects, 'ConfigMap', 'pipewright-monitor').data;
  const targets = settings.MONITOR_SERVICES.split(',');
  assert.deepEqual(
    targets.map((t) => t.split('=')[0]),
    SERVICES,
  );
  for (const t of targets) {
    const [service, address] = t.split('=');
    const [host, port] = address.split(':');
    const headless = find(objects, 'Service', host);
    assert.ok(headless, `${host} is rendered`);
    assert.equal(headless.spec.clusterIP, 'None');
    const grpc = find(objects, 'Deployment', `pipewright-${service}`).spec.template.spec.containers[0].ports.find((p) => p.name === 'grpc');
    assert.equal(Number(port), grpc.containerPort, `${service}: the port its pods serve gRPC on`);
  }
});

test("the dashboard is the Service's http port; an Ingress to it only when asked for, with TLS and a host when given", () => {
  const service = find(objects, 'Service', 'pipewright-monitor');
  assert.deepEqual(
    service.spec.ports.find((p) => p.name === 'http'),
    { name: 'http', port: 8080, targetPort: 'http', protocol: 'TCP', appProtocol: 'http' },
  );
  const [c] = find(objects, 'Deployment', 'pipewright-monitor').spec.template.spec.containers;
  assert.equal(c.ports.find((p) => p.name === 'http')?.containerPort, 8080);
  assert.equal(find(objects, 'ConfigMap', 'pipewright-monitor').data.MONITOR_HTTP_PORT, '8080');
  assert.equal(find(objects, 'ConfigMap', 'pipewright-monitor').data.MONITOR_DASHBOARD_HOSTS, '', 'no names but loopback without an Ingress');
  assert.equal(find(objects, 'Ingress', 'pipewright-monitor'), undefined, 'no Ingress unless asked for');

  const { text, objects: withIngress } = render(UMBRELLA, {
    set: { 'monitor.ingress.enabled': true, 'monitor.ingress.host': 'pipewright.example.com', 'monitor.ingress.className': 'nginx', 'monitor.ingress.tlsSecret': 'dashboard-tls', 'monitor.ingress.annotations.a': 'b' },
  });
  const ingress = find(withIngress, 'Ingress', 'pipewright-monitor');
  assert.equal(ingress.spec.ingressClassName, 'nginx');
  assert.deepEqual(ingress.spec.tls, [{ secretName: 'dashboard-tls', hosts: ['pipewright.example.com'] }]);
  assert.deepEqual(ingress.spec.rules, [
    { host: 'pipewright.example.com', http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'pipewright-monitor', port: { name: 'http' } } } }] } },
  ]);
  assert.deepEqual(ingress.metadata.annotations, { a: 'b' });
  assert.equal(find(withIngress, 'ConfigMap', 'pipewright-monitor').data.MONITOR_DASHBOARD_HOSTS, 'pipewright.example.com', 'a dashboard without login answers to the Ingress host');
  assert.deepEqual(validateManifests(text).problems, []);

  const anyHost = find(render(UMBRELLA, { set: { 'monitor.ingress.enabled': true } }).objects, 'Ingress', 'pipewright-monitor');
  assert.deepEqual(anyHost.spec.rules, [{ http: { paths: [{ path: '/', pathType: 'Prefix', backend: { service: { name: 'pipewright-monitor', port: { name: 'http' } } } }] } }]);
  assert.equal(anyHost.spec.tls, undefined);
});

test("the monitor chart's NOTES.txt says how to open the dashboard: a port-forward, and the Ingress's address when there is one", () => {
  const chart = join(CHARTS_DIR, 'monitor');
  const plain = renderNotes(chart, { release: 'ops' });
  assert.match(plain, /port-forward svc\/ops-monitor 8080:8080\n  # then open http:\/\/127\.0\.0\.1:8080\//);
  assert.doesNotMatch(plain, /https?:\/\/dash/);
  const withIngress = renderNotes(chart, { release: 'ops', set: { 'ingress.enabled': true, 'ingress.host': 'dash.example.com', 'ingress.tlsSecret': 'dash-tls' } });
  assert.match(withIngress, /or https:\/\/dash\.example\.com\//);
});


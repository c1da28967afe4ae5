// The seven real images, built from the Dockerfile with podman (scripts/lib/containers.mjs: a
// base image of Debian's packages with this machine's Node.js, no registry, no network inside
// the build), each started the way its chart's pod starts it: the environment and files the
// rendered chart gives the pod (scripts/lib/k8s-pod.mjs, as image.test.mjs derives them), the
// pod's user and group, a read-only root filesystem with the pod's emptyDir as the only
// writable place, every capability dropped, and the host's network to reach this file's Kafka
// and PostgreSQL on loopback. Each must report SERVING, answer reflection, serve /metrics, and
// stop within its grace period on SIGTERM. The runtime images must hold no dev dependencies,
// TypeScript sources or tests. Skipped only when podman cannot run on this machine at all.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { EXTERNAL_VALUES, ROOT, SERVICES, UMBRELLA, render, yaml } from '../../scripts/lib/k8s-charts.mjs';
import { podEnvironment, productionPackages } from '../../scripts/lib/k8s-pod.mjs';
import { workspacePackages } from '../../scripts/lib/k8s-image-files.mjs';
import { buildImages, imageName, podman, podmanUnavailable, spawnPodman, tryPodman } from '../../scripts/lib/containers.mjs';
import { freePort, startStack } from '@pipewright/testkit';
import { assertServesWithReflection } from './serving.mjs';

const unavailable = podmanUnavailable();
const skip = unavailable ? `podman cannot run on this machine: ${unavailable}` : false;
// Bearer tokens off: the containers are asked for reflection without one, and kube play (4.3)
// takes no Secret objects for the tokens file (the secure default: security-chart.test.mjs).
const NO_TOKENS = { 'global.grpc.auth.enabled': false };
const { objects } = unavailable ? { objects: [] } : render(UMBRELLA, { set: NO_TOKENS });
const CMD = readFileSync(join(ROOT, 'Dockerfile'), 'utf8').match(/^CMD (\[.*\])$/m)?.[1];
/** The pod spec of a service's Deployment among rendered objects. */
const podSpec = (rendered, service) => rendered.find((o) => o.kind === 'Deployment' && o.metadata.name === `pipewright-${service}`).spec.template.spec;
const MB = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

let stack;
let workDir;
/** @type {Set<string>} */
const containers = new Set();
// The tests after the build run only on the images this run built, never on older ones.
let built = false;
const needImages = () => assert.ok(built, 'the images were built by this run (see the build test)');
before(async () => {
  if (skip) return;
  stack = await startStack();
  workDir = mkdtempSync(join(stack.workDir, 'container-'));
});
after(async () => {
  for (const name of containers) tryPodman(['rm', '--force', '--time', '0', name]);
  await stack?.stop();
  if (stack && !process.env.PIPEWRIGHT_TEST_WORKDIR) rmSync(stack.workDir, { recursive: true, force: true });
});

test('the seven images build from the Dockerfile with podman, offline, sharing all but their own layer', { skip, timeout: 15 * 60_000 }, (t) => {
  const t0 = Date.now();
  const images = buildImages(SERVICES, { log: (m) => t.diagnostic(m) });
  t.diagnostic(`7 images built in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  built = true;
  const layers = new Map();
  for (const { service, image } of images) {
    const [inspect] = JSON.parse(podman(['image', 'inspect', image]));
    assert.deepEqual(inspect.Config.Cmd, JSON.parse(CMD ?? 'null'), `${service}: the Dockerfile's CMD`);
    assert.equal(inspect.Config.User, '1000:1000', `${service}: runs as the node user`);
    assert.equal(inspect.Config.Labels['org.opencontainers.image.title'], `pipewright-${service}`);
    const history = JSON.parse(podman(['history', '--format', 'json', image])).filter((h) => h.size > 0);
    const own = history[0].size;
    t.diagnostic(`${image}: ${MB(inspect.Size)} (its own layer ${MB(own)})`);
    layers.set(service, inspect.RootFS.Layers);
  }
  // Everything below the service's own files is the same layer in all seven.
  const shared = [...layers.values()].map((l) => l.slice(0, -1).join(','));
  assert.equal(new Set(shared).size, 1, 'the seven images share their base and dependency layers');
});

/**
 * Every path under /app of an image (node_modules only to its top level), as seen by the
 * image's own node, without network.
 */
function appFiles(image) {
  const script = `
    const { readdirSync } = require('node:fs');
    const out = { files: [], modules: [] };
    const walk = (dir) => { for (const e of readdirSync(dir, { withFileTypes: true })) {
      const p = dir + '/' + e.name;
      if (p === '/app/node_modules') continue;
      out.files.push(p + (e.isDirectory() ? '/' : ''));
      if (e.isDirectory()) walk(p);
    } };
    walk('/app');
    for (const e of readdirSync('/app/node_modules')) {
      if (e.startsWith('@')) for (const s of readdirSync('/app/node_modules/' + e)) out.modules.push(e + '/' + s);
      else if (!e.startsWith('.')) out.modules.push(e);
    }
    process.stdout.write(JSON.stringify(out));`;
  return JSON.parse(podman(['run', '--rm', '--network=none', '--read-only', '--cap-drop=ALL', image, 'node', '-e', script]));
}

test('each runtime image holds production dependencies, compiled code, migrations and proto/ only', { skip }, () => {
  needImages();
  const production = new Set(productionPackages().map((p) => p.slice('node_modules/'.length)));
  const manifests = [join(ROOT, 'package.json'), ...['packages', 'services', 'bench'].flatMap((top) => ['', ...readdirSync(join(ROOT, top))].map((d) => join(ROOT, top, d, 'package.json')))].filter((m) => existsSync(m));
  const dev = new Set(manifests.flatMap((m) => Object.keys(JSON.parse(readFileSync(m, 'utf8')).devDependencies ?? {})).filter((name) => !production.has(name)));
  assert.ok(dev.has('typescript') && dev.has('eslint'), 'the workspace declares its dev dependencies');
  for (const service of SERVICES) {
    const { files, modules } = appFiles(imageName(service));
    const devInImage = modules.filter((m) => dev.has(m));
    assert.deepEqual(devInImage, [], `${service}: no dev dependencies in node_modules`);
    const unknown = modules.filter((m) => !production.has(m) && !m.startsWith('@pipewright/'));
    assert.deepEqual(unknown, [], `${service}: node_modules holds only what npm ci --omit=dev installs`);
    const sources = files.filter((f) => /\.(c|m)?ts$/.test(f) && !/\.d\.(c|m)?ts$/.test(f));
    assert.deepEqual(sources, [], `${service}: no TypeScript sources`);
    const tests = files.filter((f) => /\/(src|test|tests|__tests__)\/$/.test(f) || /\.test\.(m|c)?js$/.test(f) || /tsconfig.*\.json$|\.tsbuildinfo$/.test(f));
    assert.deepEqual(tests, [], `${service}: no sources, tests or build files`);
    // The other services and the workspace packages it does not run with (the test kit) are
    // there as the manifests npm ci installs from, nothing more.
    const own = [`/app/services/${service}/`, ...workspacePackages(service).map((p) => `/app/packages/${p}/`)];
    const others = files.filter((f) => /^\/app\/(services|packages)\/[^/]+\/./.test(f) && !own.some((o) => f.startsWith(o)));
    assert.deepEqual(others.filter((f) => !f.endsWith('/package.json')), [], `${service}: of the other services and packages, only package.json`);
    assert.ok(files.includes('/app/packages/testkit/package.json') && !files.some((f) => f.startsWith('/app/packages/testkit/dist/')), `${service}: the test kit's manifest, not its code`);
    assert.ok(files.includes('/app/main.js') && files.includes(`/app/services/${service}/dist/main.js`), `${service}: main.js and its compiled entry point`);
    assert.ok(files.some((f) => f.startsWith('/app/proto/') && f.endsWith('.proto')), `${service}: proto/ for server reflection`);
  }
});

/** `podman wait` of a container: resolves with its exit code once it has stopped. */
function waitExit(name) {
  return new Promise((resolve) => {
    const p = spawnPodman(['wait', name], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (d) => (out += d));
    p.on('exit', () => {
      const code = Number.parseInt(out.trim(), 10);
      // podman wait can return without the code when the container stops as it starts waiting.
      resolve(Number.isNaN(code) ? Number.parseInt(tryPodman(['inspect', '--format', '{{.State.ExitCode}}', name]).stdout, 10) : code);
    });
  });
}

const logsOf = (name) => {
  const r = tryPodman(['logs', '--tail', '60', name]);
  return `${r.stdout ?? ''}${r.stderr ?? ''}`.trim();
};

/** podman's --tmpfs size for a Kubernetes quantity (64Mi -> 64m). */
const tmpfsSize = (q) => (q ? `,size=${q.replace(/Mi$/, 'm').replace(/Gi$/, 'g').replace(/Ki$/, 'k')}` : '');

/**
 * Starts a service's image as its chart's pod would run it: the pod's user, its scratch volumes
 * as the only writable places, its ConfigMap files mounted read-only where the pod mounts them,
 * its memory limit, no capabilities, no new privileges; the host's network (the test's Kafka
 * and PostgreSQL listen on loopback).
 */
async function startContainer(service) {
  const dir = join(workDir, service);
  const pod = await podEnvironment(objects, service, { brokers: stack.brokers, databaseUrl: stack.databaseUrl, dir, relocate: false });
  const spec = podSpec(objects, service);
  const [c] = spec.containers;
  const name = `pipewright-test-${service}-${process.pid}`;
  const args = ['run', '--detach', '--name', name, '--network=host', '--user', `${spec.securityContext.runAsUser}:${spec.securityContext.runAsGroup}`];
  if (c.securityContext.readOnlyRootFilesystem) args.push('--read-only', '--read-only-tmpfs=false');
  for (const cap of c.securityContext.capabilities.drop) args.push(`--cap-drop=${cap}`);
  if (c.securityContext.allowPrivilegeEscalation === false) args.push('--security-opt=no-new-privileges');
  for (const v of pod.scratch) args.push('--tmpfs', `${v.mountPath}:rw,mode=1777${tmpfsSize(v.sizeLimit)}`);
  for (const m of pod.configMaps) args.push('--volume', `${m.hostDir}:${m.mountPath}:ro`);
  if (c.resources?.limits?.memory) args.push('--memory', c.resources.limits.memory.replace(/Mi$/, 'm').replace(/Gi$/, 'g'));
  args.push('--stop-timeout', String(pod.graceMs / 1000));
  for (const [k, v] of Object.entries(pod.env)) args.push('--env', `${k}=${v}`);
  args.push(imageName(service));
  containers.add(name);
  podman(args);
  let exited;
  const exit = waitExit(name).then((code) => {
    exited = `${service} exited (code ${code}):\n${logsOf(name)}`;
    return code;
  });
  return { service, name, pod, exit, address: `127.0.0.1:${pod.env.GRPC_PORT}`, isDead: () => exited };
}

test('every image starts with its chart\'s pod settings, serves gRPC, reflection and /metrics, and stops within its grace period', { skip, timeout: 10 * 60_000 }, async (t) => {
  needImages();
  const t0 = Date.now();
  const started = await Promise.all(SERVICES.map(startContainer));
  try {
    for (const s of started) {
      await assertServesWithReflection(s.service, s.address, s.isDead);
      const res = await fetch(`http://127.0.0.1:${s.pod.env.METRICS_PORT}/metrics`);
      assert.equal(res.status, 200, `${s.service}: /metrics`);
      assert.match(await res.text(), /^# TYPE \w+ (counter|gauge|histogram)/m, `${s.service}: /metrics in Prometheus text format`);
      t.diagnostic(`${s.service}: SERVING, reflection and /metrics answered ${Date.now() - t0} ms after podman run`);
    }
  } finally {
    const stops = started.map(async (s) => {
      if (s.isDead()) return { ...s, code: await s.exit, ms: 0 };
      const t0 = Date.now();
      tryPodman(['kill', '--signal', 'TERM', s.name]);
      let timer;
      const code = await Promise.race([s.exit, new Promise((r) => (timer = setTimeout(() => r('still running'), s.pod.graceMs)))]);
      clearTimeout(timer);
      return { ...s, code, ms: Date.now() - t0 };
    });
    for (const s of await Promise.all(stops)) {
      const log = logsOf(s.name);
      tryPodman(['rm', '--force', '--time', '0', s.name]);
      containers.delete(s.name);
      assert.equal(s.code, 0, `${s.service} stops cleanly on SIGTERM within ${s.pod.graceMs} ms (got ${s.code} after ${s.ms} ms):\n${log}`);
      t.diagnostic(`${s.service}: stopped on SIGTERM in ${s.ms} ms (grace period ${s.pod.graceMs} ms)`);
    }
  }
});

/**
 * The umbrella chart as a cluster with its own Kafka and PostgreSQL would install it
 * (values-external.yaml), pointed at this file's Kafka and PostgreSQL, each service on ports
 * of its own (every pod shares the host's network here), images never pulled.
 */
async function renderForKubePlay() {
  /** @type {Record<string, string | number | boolean>} */
  const set = { ...NO_TOKENS, 'global.kafka.existingSecret': '', 'global.kafka.tls': false, 'global.kafka.saslMechanism': '', 'global.kafka.caSecret.name': '', 'global.kafka.replicationFactor': 1, 'global.otel.endpoint': '', 'global.image.pullPolicy': 'Never' };
  /** @type {Record<string, { grpc: number, metrics: number }>} */
  const ports = {};
  for (const service of SERVICES) {
    ports[service] = { grpc: await freePort(), metrics: await freePort() };
    set[`${service}.grpcPort`] = ports[service].grpc;
    set[`${service}.metricsPort`] = ports[service].metrics;
    // No Services here: the door forwards to each pod on the host's network.
    if (service !== 'ingest-gateway') set[`ingest-gateway.http.upstreams.${service}`] = `127.0.0.1:${ports[service].grpc}`;
  }
  // The HTTP ports too: the dashboard's, and the gateway's door (8081 by default, which another
  // process of this machine may hold).
  set['monitor.httpPort'] = await freePort();
  const door = await freePort();
  set['ingest-gateway.http.port'] = door;
  return { ports, door, ...render(UMBRELLA, { valuesFiles: [EXTERNAL_VALUES], set, setString: { 'global.kafka.brokers': stack.brokers } }) };
}

test('the umbrella chart\'s Deployments and ConfigMaps run with podman kube play, every pod ready', { skip, timeout: 10 * 60_000 }, async (t) => {
  needImages();
  const { ports, door, objects: rendered } = await renderForKubePlay();
  // kube play takes Pods, Deployments, ConfigMaps and PersistentVolumeClaims; the Services,
  // ServiceAccounts, HorizontalPodAutoscalers and PodDisruptionBudgets are cluster objects it
  // has no use for.
  const played = rendered.filter((o) => o.kind === 'Deployment' || o.kind === 'ConfigMap');
  // No cluster network, no Services: the pods use the host's network, where this file's Kafka
  // and PostgreSQL listen on loopback. kube play would publish every containerPort on the host
  // (which the host's network refuses); there the ports are the processes' own already.
  for (const d of played) {
    if (d.kind !== 'Deployment') continue;
    d.spec.template.spec.hostNetwork = true;
    for (const c of d.spec.template.spec.containers) {
      delete c.ports;
      // kube play fills in metadata.name but not the namespace (it has none): the value the
      // kubelet would give, the release's namespace.
      for (const e of c.env ?? []) if (e.valueFrom?.fieldRef?.fieldPath === 'metadata.namespace') Object.assign(e, { value: 'pipewright', valueFrom: undefined });
    }
  }
  assert.deepEqual(played.filter((o) => o.kind === 'Deployment').map((o) => o.metadata.name).sort(), SERVICES.map((s) => `pipewright-${s}`).sort(), 'a Deployment per service');
  const file = join(workDir, 'kube-play.yaml');
  writeFileSync(file, played.map((o) => yaml().stringify(o)).join('---\n'));
  // The Secret the chart's pods take DATABASE_URL from: kube play (4.3) takes no Secret
  // objects, and reads a secretKeyRef from the podman secret of that name, a JSON object of
  // base64 values (a Secret's data alone).
  const secretFile = join(workDir, 'secret.json');
  writeFileSync(secretFile, JSON.stringify({ url: Buffer.from(stack.databaseUrl).toString('base64') }));
  tryPodman(['secret', 'rm', 'pipewright-database']);
  podman(['secret', 'create', 'pipewright-database', secretFile]);
  // A pod of the same name left by an earlier run that was killed.
  const pods = SERVICES.map((service) => `pipewright-${service}-pod-0`);
  const removePods = () => tryPodman(['pod', 'rm', '--force', '--ignore', '--time', '0', ...pods]);
  removePods();
  const t0 = Date.now();
  try {
    podman(['kube', 'play', file]);
    for (const service of SERVICES) {
      const pod = `pipewright-${service}-pod-0`;
      const isDead = () => {
        const state = tryPodman(['pod', 'inspect', '--format', '{{.State}}', pod]).stdout?.trim();
        return state && state !== 'Running' ? `${pod} is ${state}:\n${logsOf(`${pod}-${service}`)}` : undefined;
      };
      await assertServesWithReflection(service, `127.0.0.1:${ports[service].grpc}`, isDead);
      const res = await fetch(`http://127.0.0.1:${ports[service].metrics}/metrics`);
      assert.equal(res.status, 200, `${service}: /metrics`);
      t.diagnostic(`${pod}: ready ${Date.now() - t0} ms after kube play`);
      // What kube play made of the pod's security settings.
      const spec = podSpec(played, service);
      const [c] = JSON.parse(podman(['container', 'inspect', `${pod}-${service}`]));
      assert.equal(c.Config.User, `${spec.securityContext.runAsUser}:${spec.securityContext.runAsGroup}`, `${service}: the pod's user`);
      assert.equal(c.HostConfig.ReadonlyRootfs, true, `${service}: read-only root filesystem`);
      assert.deepEqual(c.EffectiveCaps ?? [], [], `${service}: no capabilities`);
      assert.ok(c.HostConfig.SecurityOpt.includes('no-new-privileges'), `${service}: no privilege escalation`);
      assert.ok(c.Mounts.some((m) => m.Destination === '/tmp'), `${service}: its emptyDir at /tmp`);
    }
    // The door on the chart's http port: the gateway's own routes, and the others' forwarded.
    assert.equal((await fetch(`http://127.0.0.1:${door}/openapi.json`)).status, 200, "the door answers on the chart's http port");
    const stats = await fetch(`http://127.0.0.1:${door}/v1/scheduler/stats`);
    assert.equal(stats.status, 200, `the door forwards to the scheduler: ${await stats.clone().text()}`);
    const figures = /** @type {{ messagesReceived: string }} */ (await stats.json());
    assert.match(figures.messagesReceived, /^\d+$/, "the scheduler's own figures");
    // kube play sets no stop timeout from terminationGracePeriodSeconds (podman's default is
    // 10 s): each pod is stopped with its own, all at once as a rollout would.
    await Promise.all(SERVICES.map(async (service) => {
      const pod = `pipewright-${service}-pod-0`;
      const grace = podSpec(played, service).terminationGracePeriodSeconds;
      const t1 = Date.now();
      await new Promise((resolve) => spawnPodman(['pod', 'stop', '--time', String(grace), pod], { stdio: 'ignore' }).on('exit', resolve));
      const ms = Date.now() - t1;
      const code = Number(podman(['container', 'inspect', '--format', '{{.State.ExitCode}}', `${pod}-${service}`]).trim());
      assert.equal(code, 0, `${service}: stops cleanly on SIGTERM (exit ${code} after ${ms} ms):\n${logsOf(`${pod}-${service}`)}`);
      assert.ok(ms < grace * 1000, `${service}: stopped within ${grace} s (${ms} ms)`);
      t.diagnostic(`${pod}: stopped on SIGTERM in ${ms} ms (grace period ${grace} s)`);
    }));
  } finally {
    tryPodman(['kube', 'down', file]);
    removePods();
    tryPodman(['secret', 'rm', 'pipewright-database']);
  }
});

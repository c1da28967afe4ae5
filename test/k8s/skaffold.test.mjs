// skaffold.yaml and the Dockerfile, checked without skaffold or a Docker engine: one artifact
// per service built from the shared Dockerfile, each image wired into the chart that runs it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CHARTS_DIR, ROOT, SERVICES, UMBRELLA, find, render, yaml } from '../../scripts/lib/k8s-charts.mjs';

const skaffold = yaml().parse(readFileSync(join(ROOT, 'skaffold.yaml'), 'utf8'));
const artifacts = skaffold.build.artifacts;
const release = skaffold.deploy.helm.releases[0];
const serviceDirs = readdirSync(join(ROOT, 'services')).filter((d) => existsSync(join(ROOT, 'services', d, 'package.json')));
/** How skaffold names an artifact in templates: / - . : become _. */
const templateName = (image) => image.replace(/[/\-.:]/g, '_');
const imageRepository = (image) => image.replace(/@.*$/, '').replace(/:[^/:]+$/, '');

test('skaffold.yaml is a current v4 config with one artifact per service, from the shared Dockerfile', () => {
  assert.equal(skaffold.kind, 'Config');
  const [, beta] = skaffold.apiVersion.match(/^skaffold\/v4beta(\d+)$/) ?? [];
  assert.ok(Number(beta) >= 11, `apiVersion ${skaffold.apiVersion} is skaffold/v4beta11 or newer`);
  assert.deepEqual(serviceDirs.sort(), [...SERVICES].sort(), 'the charts cover every service directory');
  assert.deepEqual(artifacts.map((a) => a.docker?.buildArgs?.SERVICE).sort(), [...SERVICES].sort());
  assert.equal(new Set(artifacts.map((a) => a.image)).size, artifacts.length, 'image names are unique');
  for (const a of artifacts) {
    assert.equal(a.docker.dockerfile, 'Dockerfile');
    assert.ok(existsSync(join(ROOT, a.context ?? '.', a.docker.dockerfile)), `${a.image}: Dockerfile exists`);
    assert.ok(existsSync(join(ROOT, 'services', a.docker.buildArgs.SERVICE, 'package.json')), `${a.image}: SERVICE names a service`);
  }
});

test('the helm release installs the umbrella chart and sets every service image from its artifact', () => {
  assert.equal(join(ROOT, release.chartPath), UMBRELLA);
  assert.equal(release.skipBuildDependencies, true, 'the chart links its dependencies; helm dep build would replace the links');
  const umbrella = yaml().parse(readFileSync(join(UMBRELLA, 'Chart.yaml'), 'utf8'));
  const templates = release.setValueTemplates;
  assert.deepEqual(Object.keys(templates).sort(), SERVICES.flatMap((s) => [`${s}.image.repository`, `${s}.image.tag`]).sort(), 'repository and tag per service, nothing else');
  for (const a of artifacts) {
    const service = a.docker.buildArgs.SERVICE;
    const n = templateName(a.image);
    assert.ok(umbrella.dependencies.some((d) => d.name === service), `${service} is a dependency of the umbrella chart`);
    assert.equal(templates[`${service}.image.repository`], `{{.IMAGE_REPO_${n}}}`);
    assert.equal(templates[`${service}.image.tag`], `{{.IMAGE_TAG_${n}}}@{{.IMAGE_DIGEST_${n}}}`);
  }
});

test('every service image in the rendered charts is a skaffold artifact, composed as repository:tag', () => {
  const images = new Set(artifacts.map((a) => a.image));
  const { objects } = render(UMBRELLA, { release: release.name, namespace: release.namespace });
  for (const s of SERVICES) {
    const d = find(objects, 'Deployment', `${release.name}-${s}`);
    const image = d.spec.template.spec.containers[0].image;
    assert.ok(images.has(imageRepository(image)), `${s}: image ${image} is built by skaffold`);
  }
  // skaffold's helm strategy sets repository and tag to the artifact name and rewrites
  // "<artifact>:<artifact>" after rendering: the chart must compose exactly that.
  const setString = Object.fromEntries(artifacts.flatMap((a) => [[`${a.docker.buildArgs.SERVICE}.image.repository`, a.image], [`${a.docker.buildArgs.SERVICE}.image.tag`, a.image]]));
  const placeholders = render(UMBRELLA, { release: release.name, namespace: release.namespace, setString }).objects;
  for (const a of artifacts) {
    const d = find(placeholders, 'Deployment', `${release.name}-${a.docker.buildArgs.SERVICE}`);
    assert.equal(d.spec.template.spec.containers[0].image, `${a.image}:${a.image}`);
  }
  // A registry for real clusters goes in front; a digest pins the image.
  const pinned = render(join(CHARTS_DIR, 'scheduler'), { release: 's', set: { 'global.image.registry': 'registry.example.com', 'image.digest': `sha256:${'a'.repeat(64)}` } }).objects;
  assert.equal(find(pinned, 'Deployment', 's-scheduler').spec.template.spec.containers[0].image, `registry.example.com/pipewright/scheduler:0.1.0@sha256:${'a'.repeat(64)}`);
});

test('profiles for kind and minikube, and port forwarding for the gateway (gRPC and the HTTP/JSON door), the monitor and Jaeger', () => {
  const profiles = Object.fromEntries(skaffold.profiles.map((p) => [p.name, p]));
  assert.match(profiles.kind?.deploy?.kubeContext ?? '', /^kind-/);
  assert.equal(profiles.minikube?.deploy?.kubeContext, 'minikube');
  for (const p of Object.values(profiles)) assert.ok(p.activation?.some((a) => a.kubeContext), `${p.name} activates on its context`);
  const { objects } = render(UMBRELLA, { release: release.name, namespace: release.namespace });
  const forwarded = skaffold.portForward.map((f) => {
    assert.equal(f.resourceType, 'service');
    assert.equal(f.namespace, release.namespace);
    const svc = find(objects, 'Service', f.resourceName);
    assert.ok(svc, `Service ${f.resourceName} is rendered`);
    const port = svc.spec.ports.find((p) => p.port === f.port);
    assert.ok(port, `${f.resourceName} has port ${f.port}`);
    return `${f.resourceName}/${port.name}`;
  });
  for (const want of ['pipewright-ingest-gateway/grpc', 'pipewright-ingest-gateway/http', 'pipewright-monitor/grpc', 'pipewright-monitor/http', 'pipewright-jaeger/ui']) {
    assert.ok(forwarded.includes(want), `port-forward ${want}`);
  }
  assert.equal(new Set(skaffold.portForward.map((f) => f.localPort)).size, skaffold.portForward.length, 'local ports are distinct');
});

test('the Dockerfile builds any service on a current Node LTS, runs it as non-root with production dependencies only', () => {
  const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
  const base = dockerfile.match(/^ARG NODE_IMAGE=node:(\d+)[-\w.]*$/m);
  assert.ok(base, 'the base image is an official node image');
  const major = Number(base[1]);
  assert.ok(major >= 22 && major % 2 === 0, `node ${major} is a maintained LTS line`);
  assert.match(dockerfile, /^ARG SERVICE$/m);
  assert.ok((dockerfile.match(/^FROM /gm) ?? []).length >= 3, 'multi-stage');
  assert.match(dockerfile, /npm ci --omit=dev --ignore-scripts/);
  assert.match(dockerfile, /npm run build/);
  const user = dockerfile.match(/^USER (\d+)(?::(\d+))?$/m);
  assert.ok(user && Number(user[1]) > 0, 'numeric non-root USER, so runAsNonRoot can be verified');
  const cmdLine = dockerfile.match(/^CMD (\[.*\])$/m);
  assert.ok(cmdLine, 'the Dockerfile has a CMD');
  const cmd = JSON.parse(cmdLine[1]);
  assert.deepEqual(cmd.slice(0, 3), ['node', '--require', '@pipewright/platform/register']);
  // The final stage holds what scripts/lib/k8s-image-files.mjs copies (image.test.mjs starts
  // every service from that layout), and starts the service through its main.js.
  assert.match(dockerfile, /^RUN node scripts\/lib\/k8s-image-files\.mjs "\$\{SERVICE\}" \/out$/m);
  assert.match(dockerfile, /^COPY --from=service-files \/out\/ \.\/$/m);
  assert.equal(cmd[3], 'main.js');
  assert.match(dockerfile, /^WORKDIR \/app$/m);
  // The chart's pods run as the image's user.
  const { objects } = render(join(CHARTS_DIR, 'scheduler'), { release: 's' });
  assert.equal(find(objects, 'Deployment', 's-scheduler').spec.template.spec.securityContext.runAsUser, Number(user[1]));
  const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
  for (const p of ['**/node_modules', '**/dist', '.git']) assert.ok(ignore.includes(p), `.dockerignore excludes ${p}`);
  for (const needed of ['proto', 'packages', 'services', 'scripts', 'package.json', 'package-lock.json', 'tsconfig.json']) {
    assert.ok(!ignore.includes(needed), `.dockerignore keeps ${needed}, which the build needs`);
  }
});

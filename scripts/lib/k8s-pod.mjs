// A service's pod as its rendered chart describes it, for starting the service outside
// Kubernetes: the environment of its container (ConfigMaps, plain values, the fields and Secrets
// the kubelet fills in), the files of its ConfigMap volumes, its scratch volumes and its grace
// period. Only addresses, ports and secrets become local. test/k8s/image.test.mjs starts each
// service from the image's file layout with it, test/k8s/container.test.mjs the real image.
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT, find, serviceSettings } from './k8s-charts.mjs';
import { freePort } from './proc.mjs';

/**
 * @typedef {{ name: string, mountPath: string, hostDir: string }} ConfigMapMount
 * @typedef {{
 *   env: Record<string, string>,
 *   graceMs: number,
 *   configMaps: ConfigMapMount[],
 *   scratch: { mountPath: string, sizeLimit?: string }[],
 *   ports: Record<string, number>,
 * }} PodEnvironment
 */

/**
 * The pod of Deployment pipewright-<service> in `objects`, made local: Kafka at `brokers`, the
 * Secret-held DATABASE_URL as `databaseUrl`, every port setting of the service on a free port
 * of this machine, gRPC on `grpcHost`, no trace export. ConfigMap volumes are written under
 * `dir`/mounts/<volume>; with `relocate`, settings that point into them point at those files
 * instead (a process on this machine), without it they keep the pod's paths (a container that
 * mounts each directory at its mountPath).
 * @param {any[]} objects
 * @param {string} service
 * @param {{ brokers: string, databaseUrl: string, dir: string, relocate: boolean, grpcHost?: string }} options
 * @returns {Promise<PodEnvironment>}
 */
export async function podEnvironment(objects, service, { brokers, databaseUrl, dir, relocate, grpcHost = '127.0.0.1' }) {
  const deployment = find(objects, 'Deployment', `pipewright-${service}`);
  if (!deployment) throw new Error(`the rendered chart has no Deployment pipewright-${service}`);
  const spec = deployment.spec.template.spec;
  const [c] = spec.containers;
  /** @type {Record<string, string>} */
  const env = {};
  for (const from of c.envFrom ?? []) Object.assign(env, find(objects, 'ConfigMap', from.configMapRef.name).data);
  for (const e of c.env ?? []) {
    if ('value' in e) env[e.name] = e.value;
    else if (e.valueFrom.fieldRef) env[e.name] = { 'metadata.name': `${service}-0`, 'metadata.namespace': 'pipewright' }[e.valueFrom.fieldRef.fieldPath];
    else if (e.name === 'DATABASE_URL') env[e.name] = databaseUrl;
    else throw new Error(`${service}: no local value for the Secret-held ${e.name}`);
  }
  // ConfigMap volumes become files under dir; scratch volumes (emptyDir) are listed.
  const configMaps = [];
  const scratch = [];
  for (const m of c.volumeMounts ?? []) {
    const volume = spec.volumes.find((v) => v.name === m.name);
    if (volume?.emptyDir) scratch.push({ mountPath: m.mountPath, sizeLimit: volume.emptyDir.sizeLimit });
    const cm = volume?.configMap;
    if (!cm) continue;
    const hostDir = join(dir, 'mounts', m.name);
    mkdirSync(hostDir, { recursive: true, mode: 0o755 });
    for (const [key, text] of Object.entries(find(objects, 'ConfigMap', cm.name).data)) writeFileSync(join(hostDir, key), /** @type {string} */ (text), { mode: 0o644 });
    configMaps.push({ name: m.name, mountPath: m.mountPath, hostDir });
    if (relocate) for (const [k, v] of Object.entries(env)) if (typeof v === 'string' && v.startsWith(`${m.mountPath}/`)) env[k] = join(hostDir, v.slice(m.mountPath.length + 1));
  }
  // Local addresses: the test broker, free ports, loopback; no trace export.
  env.KAFKA_BROKERS = brokers;
  env.GRPC_HOST = grpcHost;
  const settings = serviceSettings(service);
  if (!settings) throw new Error(`${service}: no settings (services/${service}/src/config.ts)`);
  /** @type {Record<string, number>} */
  const ports = {};
  for (const s of settings.described) {
    if (s.kind !== 'port') continue;
    ports[s.name] = await freePort();
    env[s.name] = String(ports[s.name]);
  }
  for (const k of Object.keys(env)) if (k.startsWith('OTEL_EXPORTER_')) delete env[k];
  env.OTEL_SDK_DISABLED = 'true';
  return { env, graceMs: spec.terminationGracePeriodSeconds * 1000, configMaps, scratch, ports };
}

let production;
/**
 * The packages `npm ci --omit=dev` installs at the top of node_modules, as paths relative to
 * the workspace (node_modules/<name>), from `npm ls --omit=dev` of the workspace's install.
 * @returns {string[]}
 */
export function productionPackages() {
  if (!production) {
    const r = spawnSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 16 << 20 });
    production = r.stdout.split('\n').map((p) => relative(ROOT, p)).filter((p) => /^node_modules\/(@[^/]+\/)?[^/@]+$/.test(p));
    if (production.length <= 20) throw new Error(`npm ls --omit=dev did not list the production packages (${r.stderr})`);
  }
  return production;
}

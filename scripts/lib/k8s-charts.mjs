// Rendering and validating the Helm charts offline, for the k8s tests and by hand:
//   node scripts/lib/k8s-charts.mjs [values.yaml ...]   renders the umbrella chart and validates it
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ensureK8sTools, KUBERNETES_VERSIONS, withLock } from './k8s-tools.mjs';
import { CHARTS_DIR, SERVICES } from './k8s-schema.mjs';

export { CHARTS_DIR, SERVICES };
export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const UMBRELLA = join(CHARTS_DIR, 'pipewright');
export const EXTERNAL_VALUES = join(UMBRELLA, 'values-external.yaml');
export const LIBRARY = join(CHARTS_DIR, 'pipewright-lib');

const require = createRequire(join(ROOT, 'package.json'));

let yamlModule;
/** The YAML parser; the `yaml` package is in the workspace's node_modules. */
export function yaml() {
  try {
    yamlModule ??= require('yaml');
  } catch (err) {
    throw new Error(`the yaml package is needed to read rendered manifests (${err instanceof Error ? err.message : err}); run npm install`);
  }
  return yamlModule;
}

let tools;
export function k8sTools() {
  tools ??= ensureK8sTools();
  return tools;
}

/** Runs helm; returns stdout, throws with helm's own message on failure. */
export function helm(args) {
  const r = spawnSync(k8sTools().helm, args, { encoding: 'utf8', maxBuffer: 64 << 20, cwd: ROOT });
  // The charts/ links make helm note each one; that is expected.
  const stderr = (r.stderr ?? '').split('\n').filter((l) => l && !l.includes('found symbolic link in path')).join('\n');
  if (r.error) throw r.error;
  if (r.status !== 0) {
    throw Object.assign(new Error(`helm ${args.join(' ')} failed:\n${stderr}\n${r.stdout}`), { stderr });
  }
  return r.stdout;
}

/**
 * `helm template` of a chart; returns the manifest text.
 * @param {string} chart
 * @param {{ release?: string, namespace?: string, valuesFiles?: string[], set?: Record<string, unknown>, setString?: Record<string, string> }} [options]
 */
export function template(chart, { release = 'pipewright', namespace = 'pipewright', valuesFiles = [], set = {}, setString = {} } = {}) {
  const args = ['template', release, chart, '--namespace', namespace];
  for (const f of valuesFiles) args.push('--values', f);
  for (const [k, v] of Object.entries(set)) args.push('--set', `${k}=${v}`);
  for (const [k, v] of Object.entries(setString)) args.push('--set-string', `${k}=${v}`);
  return helm(args);
}

/** The objects of a manifest text. */
export function parseManifests(text) {
  return yaml()
    .parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length) throw new Error(`rendered YAML does not parse: ${d.errors[0].message}`);
      return d.toJS();
    })
    .filter(Boolean);
}

export function render(chart, opts) {
  const text = template(chart, opts);
  return { text, objects: parseManifests(text) };
}

/** kubeconform -strict against every Kubernetes version of KUBERNETES_VERSIONS; returns the problems. */
export function validateManifests(text) {
  const { kubeconform, schemas } = k8sTools();
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-k8s-'));
  const file = join(dir, 'manifests.yaml');
  writeFileSync(file, text);
  const problems = [];
  let validated = 0;
  try {
    for (const version of KUBERNETES_VERSIONS) {
      const location = join(schemas, '{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}', '{{ .ResourceKind }}{{ .KindSuffix }}.json');
      const r = spawnSync(kubeconform, ['-strict', '-output', 'json', '-summary', '-kubernetes-version', version, '-schema-location', location, file], { encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.error) throw r.error;
      let report;
      try {
        report = JSON.parse(r.stdout);
      } catch {
        throw new Error(`kubeconform printed no report (exit ${r.status}): ${r.stderr}${r.stdout}`);
      }
      for (const res of report.resources ?? []) {
        if (res.status !== 'statusValid') problems.push(`Kubernetes ${version}: ${res.kind} ${res.name}: ${res.status} ${res.msg ?? ''}`);
      }
      validated += report.summary?.valid ?? 0;
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { problems, validated };
}

/**
 * A chart's NOTES.txt as `helm install` would print it, rendered offline: helm template leaves
 * NOTES.txt out, so a copy of the chart gets one more template that includes it.
 */
export function renderNotes(chart, opts = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'pipewright-notes-'));
  try {
    const copy = join(dir, 'chart');
    cpSync(chart, copy, { recursive: true, dereference: true });
    const name = yaml().parse(readFileSync(join(chart, 'Chart.yaml'), 'utf8')).name;
    writeFileSync(join(copy, 'templates', 'notes-as-configmap.yaml'), [
      'apiVersion: v1',
      'kind: ConfigMap',
      'metadata: {name: notes}',
      `data: {notes: {{ include "${name}/templates/NOTES.txt" . | quote }}}`,
      '',
    ].join('\n'));
    const { objects } = render(copy, { ...opts, setString: opts.setString });
    return find(objects, 'ConfigMap', 'notes').data.notes;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Objects with a pod template (or pods), with their pod spec. */
export function podSpecs(objects) {
  return objects
    .filter((o) => ['Deployment', 'StatefulSet', 'Job', 'DaemonSet', 'Pod'].includes(o.kind))
    .map((o) => ({ object: o, id: `${o.kind}/${o.metadata.name}`, spec: o.kind === 'Pod' ? o.spec : o.spec.template.spec }));
}

export const find = (objects, kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);

/**
 * The compiled module of a workspace source file (e.g. services/scheduler/src/config.ts), after
 * `npm run build` when it is missing or older than its source; undefined when the source does
 * not exist.
 */
export function compiled(source) {
  const src = join(ROOT, source);
  if (!existsSync(src)) return undefined;
  const out = src.replace(/\/src\/(.*)\.ts$/, '/dist/$1.js');
  const stale = () => !existsSync(out) || statSync(out).mtimeMs < statSync(src).mtimeMs;
  if (stale()) {
    withLock(join(ROOT, 'node_modules', '.cache', 'pipewright-build.lock'), () => {
      if (!stale()) return;
      const r = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20 });
      if (r.status !== 0) throw new Error(`npm run build failed (exit ${r.status}):\n${r.stdout}\n${r.stderr}`);
    });
  }
  return require(out);
}

/**
 * The declared settings of a service (describeSettings of its config module's `settings`) with
 * the spec itself, or undefined when the service has no src/config.ts yet.
 */
export function serviceSettings(service) {
  const config = compiled(`services/${service}/src/config.ts`);
  if (!config) return undefined;
  const { describeSettings } = require('@pipewright/platform');
  return { spec: config.settings, described: describeSettings(config.settings) };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const text = template(UMBRELLA, { valuesFiles: process.argv.slice(2) });
  const { problems, validated } = validateManifests(text);
  console.log(problems.length ? problems.join('\n') : `${validated} object validations passed (Kubernetes ${KUBERNETES_VERSIONS.join(', ')})`);
  process.exit(problems.length ? 1 : 0);
}

// The tools that check the Kubernetes deployment offline: helm, kubeconform and the Kubernetes
// JSON schemas (from the PyPI package kubernetes-validate). Each is installed once into the
// cache (PIPEWRIGHT_CACHE, default ~/.cache/pipewright) and reused from there.
//
//   node scripts/lib/k8s-tools.mjs     installs what is missing and prints where everything is
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const HELM = { name: 'helm', module: 'helm.sh/helm/v3', pkg: 'helm.sh/helm/v3/cmd/helm', version: 'v3.22.0' };
export const KUBECONFORM = { name: 'kubeconform', module: 'github.com/yannh/kubeconform', pkg: 'github.com/yannh/kubeconform/cmd/kubeconform', version: 'v0.7.0' };
export const SCHEMAS = { pypi: 'kubernetes-validate', version: '1.37.0' };
/** The oldest Kubernetes the charts support, and the newest the schema package knows. */
export const KUBERNETES_VERSIONS = ['1.30.0', '1.37.0'];

export function cacheDir() {
  return process.env.PIPEWRIGHT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pipewright');
}

class MissingTool extends Error {}

function run(cmd, args, opts = {}) {
  return spawnSync(cmd, args, { encoding: 'utf8', ...opts });
}

/** The module version a Go binary was built from (`go version -m`), or undefined. */
function goBinaryVersion(binary, tool) {
  const r = run('go', ['version', '-m', binary]);
  if (r.status !== 0) return undefined;
  const line = r.stdout.split('\n').find((l) => l.trim().startsWith('mod\t') && l.includes(tool.module));
  return line?.trim().split(/\s+/)[2];
}

/** A Go tool at its pinned version: from the cache, else copied from GOPATH/bin, else `go install`ed. */
export function ensureGoTool(tool, { log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const bin = join(cacheDir(), 'bin');
  const target = join(bin, tool.name);
  const stamp = `${target}.version`;
  if (existsSync(target) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === tool.version) return target;
  const go = run('go', ['env', 'GOPATH']);
  if (go.error || go.status !== 0) {
    throw new MissingTool(`${tool.name} ${tool.version} is not in ${bin} and Go is not installed to build it. Install Go (https://go.dev/dl/) or run: GOBIN=${bin} go install ${tool.pkg}@${tool.version}, then: echo ${tool.version} > ${stamp}`);
  }
  mkdirSync(bin, { recursive: true });
  const gopathBin = go.stdout.trim().split(delimiter).map((p) => join(p, 'bin', tool.name));
  const built = gopathBin.find((p) => existsSync(p) && goBinaryVersion(p, tool) === tool.version);
  const partial = `${target}.${process.pid}.tmp`;
  if (built) {
    copyFileSync(built, partial);
  } else {
    log(`building ${tool.name} ${tool.version} with go install into ${bin} (once)`);
    const tmp = join(bin, `.gobin-${process.pid}`);
    const r = run('go', ['install', `${tool.pkg}@${tool.version}`], { env: { ...process.env, GOBIN: tmp, GOFLAGS: '-buildvcs=false' }, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new MissingTool(`go install ${tool.pkg}@${tool.version} failed (exit ${r.status}); see the output above`);
    renameSync(join(tmp, tool.name), partial);
    rmSync(tmp, { recursive: true, force: true });
  }
  renameSync(partial, target);
  writeFileSync(stamp, `${tool.version}\n`);
  return target;
}

/**
 * Kubernetes JSON schemas in the layout kubeconform reads
 * (<dir>/v<version>-local-strict/<kind>-<group>-<apiversion>.json), from the wheel of the
 * PyPI package kubernetes-validate. Only the versions in KUBERNETES_VERSIONS are unpacked.
 */
export function ensureSchemas({ log = (m) => process.stderr.write(`${m}\n`) } = {}) {
  const dir = join(cacheDir(), `kubernetes-json-schema-${SCHEMAS.version}`);
  const wanted = KUBERNETES_VERSIONS.map((v) => `v${v}-local-strict`);
  if (wanted.every((w) => existsSync(join(dir, w, 'deployment-apps-v1.json')))) return dir;
  const python = ['python3', 'python'].find((p) => run(p, ['-m', 'pip', '--version']).status === 0);
  if (!python) {
    throw new MissingTool(`the Kubernetes schemas are not in ${dir}, and pip is needed to fetch them (PyPI package ${SCHEMAS.pypi}==${SCHEMAS.version}). Install Python 3 with pip (Debian: apt-get install python3-pip).`);
  }
  log(`downloading ${SCHEMAS.pypi} ${SCHEMAS.version} from PyPI for the Kubernetes schemas (once)`);
  const download = join(cacheDir(), `.wheel-${process.pid}`);
  const r = run(python, ['-m', 'pip', 'download', '--no-deps', '--only-binary=:all:', '--dest', download, `${SCHEMAS.pypi}==${SCHEMAS.version}`], { stdio: ['ignore', 'inherit', 'inherit'] });
  if (r.status !== 0) throw new MissingTool(`pip download ${SCHEMAS.pypi}==${SCHEMAS.version} failed (exit ${r.status}); see the output above`);
  const unpack = `${dir}.${process.pid}.tmp`;
  rmSync(unpack, { recursive: true, force: true });
  // The schemas name themselves https://kubernetes.io/api/... and refer to
  // /api/_definitions.json; without their $id those references resolve to the file beside them.
  const script = [
    'import glob, json, os, sys, zipfile',
    'wheel = glob.glob(os.path.join(sys.argv[1], "*.whl"))[0]',
    'prefix = "kubernetes_validate/kubernetes-json-schema/"',
    'wanted = tuple(prefix + w + "/" for w in sys.argv[3:])',
    'with zipfile.ZipFile(wheel) as z:',
    '    for name in z.namelist():',
    '        if name.startswith(wanted) and name.endswith(".json"):',
    '            schema = json.loads(z.read(name).decode().replace(\'"/api/_definitions.json#\', \'"_definitions.json#\'))',
    '            schema.pop("$id", None)',
    '            out = os.path.join(sys.argv[2], name[len(prefix):])',
    '            os.makedirs(os.path.dirname(out), exist_ok=True)',
    '            with open(out, "w") as f: json.dump(schema, f)',
  ].join('\n');
  const x = run(python, ['-c', script, download, unpack, ...wanted]);
  rmSync(download, { recursive: true, force: true });
  if (x.status !== 0) throw new MissingTool(`could not unpack the schemas from the ${SCHEMAS.pypi} wheel: ${x.stderr}`);
  for (const w of wanted) {
    if (!existsSync(join(unpack, w, 'deployment-apps-v1.json'))) throw new MissingTool(`${SCHEMAS.pypi} ${SCHEMAS.version} has no ${w} schemas`);
  }
  try {
    renameSync(unpack, dir);
  } catch (err) {
    // Another process unpacked them first.
    rmSync(unpack, { recursive: true, force: true });
    if (!existsSync(join(dir, wanted[0], 'deployment-apps-v1.json'))) throw err;
  }
  return dir;
}

/** Runs fn while holding the lock directory `lock`, so parallel test files do a thing once. */
export function withLock(lock, fn) {
  mkdirSync(dirname(lock), { recursive: true });
  const deadline = Date.now() + 15 * 60_000;
  for (;;) {
    try {
      mkdirSync(lock);
      break;
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'EEXIST') throw err;
      // A lock older than the longest provisioning is left over from a killed process.
      if (Date.now() - (statSync(lock, { throwIfNoEntry: false })?.mtimeMs ?? Date.now()) > 15 * 60_000) rmSync(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`${lock} is held by another process; remove it if none is running`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 500);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
}

/** Everything the Kubernetes checks need; throws one error naming what could not be provided. */
export function ensureK8sTools(opts) {
  return withLock(join(cacheDir(), '.k8s-tools.lock'), () => provide(opts));
}

function provide(opts) {
  const problems = [];
  const out = {};
  /** @type {Array<[string, () => string]>} */
  const steps = [['helm', () => ensureGoTool(HELM, opts)], ['kubeconform', () => ensureGoTool(KUBECONFORM, opts)], ['schemas', () => ensureSchemas(opts)]];
  for (const [key, fn] of steps) {
    try {
      out[key] = fn();
    } catch (err) {
      if (!(err instanceof MissingTool)) throw err;
      problems.push(err.message);
    }
  }
  if (problems.length) throw new Error(`cannot provide the Kubernetes test tools:\n  ${problems.join('\n  ')}`);
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(JSON.stringify(ensureK8sTools(), null, 2));
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}

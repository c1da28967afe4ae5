// Real OCI images of the seven services, built from the project's Dockerfile with podman and
// no container registry: podman, buildah and runc from Debian's packages (installed here when
// missing, as root), podman's settings from scripts/containers/ (never the machine's
// /etc/containers), its storage under the pipewright cache, and a base image made of Debian's
// packages plus this machine's Node.js runtime, given to the Dockerfile as NODE_IMAGE.
// scripts/images.mjs is the command line; test/k8s/container.test.mjs builds and runs them.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, cpSync, existsSync, mkdirSync, readFileSync, readdirSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, withLock } from './k8s-tools.mjs';
import { PrerequisiteError } from './proc.mjs';
import { SERVICE_LIST } from './services.mjs';
import { aptInstall } from './apt.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CONFIG_DIR = join(ROOT, 'scripts', 'containers');
const VERSION = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version;
export const SERVICES = SERVICE_LIST.map((s) => s.name);

/** @typedef {{ log?: (message: string) => void }} LogOption */
/** @param {string} m */
const toStderr = (m) => void process.stderr.write(`${m}\n`);

/**
 * Debian's packages that provide everything here, and a command each brings: catatonit is the
 * init of the pause container that holds a pod of podman kube play.
 */
const PACKAGES = ['podman', 'buildah', 'runc', 'mmdebstrap', 'netavark', 'catatonit'];
const COMMANDS = { podman: 'podman', buildah: 'buildah', runc: 'runc', mmdebstrap: 'mmdebstrap', netavark: '/usr/lib/podman/netavark', catatonit: 'catatonit' };

/** The Debian release of the base image, and the image's name (one per Node.js version). */
const DEBIAN_SUITE = 'bookworm';
/** What Debian's own slim images leave out of every package: documentation, manuals, translations. */
const SLIM = ['/usr/share/doc/*', '/usr/share/groff/*', '/usr/share/info/*', '/usr/share/linda/*', '/usr/share/lintian/*', '/usr/share/locale/*', '/usr/share/man/*']
  .map((p) => `--dpkgopt=path-exclude=${p}`)
  .concat(['--dpkgopt=path-include=/usr/share/doc/*/copyright']);
/** What the machine lends the root filesystem while mmdebstrap makes it; podman provides its own to every container. */
const HOST_FILES = ['etc/resolv.conf', 'etc/hostname', 'etc/hosts', 'etc/apt/sources.list', 'etc/apt/sources.list.d', 'var/lib/apt/lists'];
// One name per Node.js version and recipe: a change to how the base is made makes a new one.
const RECIPE = createHash('sha256').update([DEBIAN_SUITE, ...SLIM, ...HOST_FILES, ensureBaseImage.toString()].join('\n')).digest('hex').slice(0, 8);
export const BASE_IMAGE = `localhost/pipewright-node:${process.versions.node}-${DEBIAN_SUITE}-slim-${RECIPE}`;

/**
 * An image's name as the charts refer to it, and as skaffold.yaml names the artifact:
 * pipewright/<service> (docker.io/pipewright/<service> in full, which is how Kubernetes and
 * kind resolve the short name), tagged with the chart's appVersion, the charts' default tag.
 */
export const imageName = (service, tag = VERSION) => `docker.io/pipewright/${service}:${tag}`;

/** Where podman keeps images and containers: the pipewright cache, not /var/lib/containers. */
export function storageDir() {
  return join(cacheDir(), 'containers');
}

/** The environment podman runs with: the project's containers.conf, storage.conf and registries.conf. */
export function podmanEnv(env = process.env) {
  return {
    ...env,
    CONTAINERS_CONF: join(CONFIG_DIR, 'containers.conf'),
    CONTAINERS_STORAGE_CONF: join(CONFIG_DIR, 'storage.conf'),
    CONTAINERS_REGISTRIES_CONF: join(CONFIG_DIR, 'registries.conf'),
  };
}

/** podman's global options: the storage location. */
export function podmanGlobalArgs() {
  return ['--root', join(storageDir(), 'storage'), '--runroot', join(storageDir(), 'run'), '--tmpdir', join(storageDir(), 'tmp')];
}

/**
 * Runs podman with the project's settings; returns spawnSync's result, whatever podman's exit.
 * @param {string[]} args
 * @param {{ timeoutMs?: number }} [options]
 * @returns {import('node:child_process').SpawnSyncReturns<string>}
 */
export function tryPodman(args, { timeoutMs } = {}) {
  mkdirSync(join(storageDir(), 'tmp'), { recursive: true });
  return spawnSync('podman', [...podmanGlobalArgs(), ...args], { env: podmanEnv(), encoding: 'utf8', maxBuffer: 256 << 20, timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

/**
 * Runs podman with the project's settings; returns its stdout, or throws with podman's own
 * message.
 * @param {string[]} args
 * @param {{ timeoutMs?: number }} [options]
 * @returns {string}
 */
export function podman(args, options) {
  const r = tryPodman(args, options);
  if (r.error) throw r.error;
  if (r.status !== 0) throw new Error(`podman ${args.join(' ')} failed (exit ${r.status}):\n${(r.stderr ?? '').trim()}`);
  return r.stdout ?? '';
}

/** podman started in the background with the project's settings (for `podman run` in the foreground, logs). */
export function spawnPodman(args, options = {}) {
  return spawn('podman', [...podmanGlobalArgs(), ...args], { env: podmanEnv(), ...options });
}

const missingCommands = () => PACKAGES.filter((p) => {
  const cmd = COMMANDS[p];
  if (cmd.startsWith('/')) return !existsSync(cmd);
  return spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status !== 0;
});

/**
 * podman, buildah, runc, mmdebstrap, netavark and catatonit: installed with apt-get when missing and this
 * process is root; otherwise a PrerequisiteError saying, in one line, what to install. An
 * install that fails is an Error.
 * @param {LogOption} [options]
 */
export function ensureContainerTools({ log = toStderr } = {}) {
  if (process.platform !== 'linux') throw new PrerequisiteError(`podman builds and runs the images on Linux only; this is ${process.platform}`);
  const missing = missingCommands();
  aptInstall(missing, {
    present: () => missingCommands().length === 0,
    unavailable: `${missing.join(', ')} ${missing.length > 1 ? 'are' : 'is'} needed to build and run the images; install ${missing.length > 1 ? 'them' : 'it'} as root`,
    lockName: '.container-tools.lock',
    log,
  });
  const still = missingCommands();
  if (still.length) throw new Error(`${still.join(', ')} still missing after apt-get install`);
}

/**
 * Why podman cannot run on this machine at all, or undefined when it can: not Linux, the tools
 * missing and no way to install them (not root), or `podman info` failing with the project's
 * settings (no runtime, no storage). Installs the tools when it can; a failed install throws.
 * @returns {string | undefined}
 * @param {LogOption} [options]
 */
export function podmanUnavailable({ log = toStderr } = {}) {
  try {
    ensureContainerTools({ log });
  } catch (err) {
    if (err instanceof PrerequisiteError) return err.message;
    throw err;
  }
  const r = tryPodman(['info', '--format', '{{.Host.OCIRuntime.Name}} {{.Store.GraphDriverName}}'], { timeoutMs: 60_000 });
  if (r.error) return `podman could not be started (${r.error.message})`;
  if (r.status !== 0) return `podman info failed: ${(r.stderr ?? '').trim().split('\n').pop()}`;
  return undefined;
}

export const imageExists = (image) => tryPodman(['image', 'exists', image]).status === 0;

/** The Debian sources this machine's apt uses: the base image is made from the same mirror. */
function debianSources() {
  const deb822 = '/etc/apt/sources.list.d/debian.sources';
  if (existsSync(deb822)) return deb822;
  const list = '/etc/apt/sources.list';
  if (existsSync(list) && readFileSync(list, 'utf8').split('\n').some((l) => /^\s*deb\s/.test(l))) return list;
  // mmdebstrap's default: Debian's own mirror.
  return undefined;
}

/**
 * The base image the Dockerfile takes as NODE_IMAGE, made once per Node.js version: a minimal
 * Debian root filesystem (mmdebstrap, variant minbase, with ca-certificates, without the
 * documentation Debian's slim images leave out) with this
 * machine's node binary and npm laid out as the official node images have them
 * (/usr/local/bin, /usr/local/lib/node_modules/npm), and user and group node (1000). The apt
 * sources it was made from and the name server and host name mmdebstrap copies in are removed:
 * nothing of this machine's configuration stays in the image.
 * @param {LogOption} [options]
 */
export function ensureBaseImage({ log = toStderr } = {}) {
  if (imageExists(BASE_IMAGE)) return BASE_IMAGE;
  return withLock(join(cacheDir(), '.container-base.lock'), () => {
    if (imageExists(BASE_IMAGE)) return BASE_IMAGE;
    const npmDir = join(dirname(realpathSync(process.execPath)), '..', 'lib', 'node_modules', 'npm');
    if (!existsSync(join(npmDir, 'bin', 'npm-cli.js'))) throw new PrerequisiteError(`npm is not at ${npmDir}, beside ${process.execPath}: the base image takes node and npm from there`);
    const rootfs = join(storageDir(), `rootfs-${process.pid}`);
    rmSync(rootfs, { recursive: true, force: true });
    mkdirSync(dirname(rootfs), { recursive: true });
    const t0 = Date.now();
    log(`making the base image ${BASE_IMAGE}: Debian ${DEBIAN_SUITE} (minbase, slim) with mmdebstrap, Node.js ${process.version} from this machine (once)`);
    try {
      const sources = debianSources();
      const r = spawnSync('mmdebstrap', ['--variant=minbase', '--include=ca-certificates', ...SLIM, '--quiet', DEBIAN_SUITE, rootfs, ...(sources ? [sources] : [])], { stdio: ['ignore', 'inherit', 'inherit'] });
      if (r.status !== 0) throw new Error(`mmdebstrap failed (exit ${r.status}); see the output above`);
      // Nothing of this machine's own configuration stays: its name server, host name, apt sources.
      for (const f of HOST_FILES) rmSync(join(rootfs, f), { recursive: true, force: true });
      mkdirSync(join(rootfs, 'etc/apt/sources.list.d'));
      mkdirSync(join(rootfs, 'var/lib/apt/lists/partial'), { recursive: true });
      // Node.js and npm where the official images have them.
      cpSync(realpathSync(process.execPath), join(rootfs, 'usr/local/bin/node'));
      cpSync(npmDir, join(rootfs, 'usr/local/lib/node_modules/npm'), { recursive: true, dereference: true });
      symlinkSync('../lib/node_modules/npm/bin/npm-cli.js', join(rootfs, 'usr/local/bin/npm'));
      symlinkSync('../lib/node_modules/npm/bin/npx-cli.js', join(rootfs, 'usr/local/bin/npx'));
      // The node user (1000:1000), as in the official images.
      appendFileSync(join(rootfs, 'etc/passwd'), 'node:x:1000:1000::/home/node:/bin/sh\n');
      appendFileSync(join(rootfs, 'etc/group'), 'node:x:1000:\n');
      appendFileSync(join(rootfs, 'etc/shadow'), 'node:*:20000:0:99999:7:::\n');
      mkdirSync(join(rootfs, 'home/node'), { recursive: true });
      spawnSync('chown', ['1000:1000', join(rootfs, 'home/node')]);
      const tar = spawnSync('tar', ['--numeric-owner', '-C', rootfs, '-cf', `${rootfs}.tar`, '.'], { encoding: 'utf8' });
      if (tar.status !== 0) throw new Error(`tar of the base root filesystem failed: ${tar.stderr}`);
      podman(['import', '--change', 'CMD ["node"]', '--change', `ENV NODE_VERSION=${process.versions.node}`, '--message', `Debian ${DEBIAN_SUITE} minbase with Node.js ${process.version}`, `${rootfs}.tar`, BASE_IMAGE]);
    } finally {
      rmSync(rootfs, { recursive: true, force: true });
      rmSync(`${rootfs}.tar`, { force: true });
    }
    log(`base image ${BASE_IMAGE} made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    return BASE_IMAGE;
  });
}

/** npm's cache on this machine, which the build installs from (`npm ci --offline`). */
function npmCache() {
  const r = spawnSync('npm', ['config', 'get', 'cache'], { cwd: ROOT, encoding: 'utf8' });
  const dir = r.status === 0 ? r.stdout.trim() : join(homedir(), '.npm');
  mkdirSync(dir, { recursive: true });
  return dir;
}

/**
 * Puts every package of package-lock.json into npm's cache, from the registry where it is
 * missing: a `npm ci` of the workspace's manifests alone, in a scratch directory.
 */
function fillNpmCache({ log }) {
  const dir = join(storageDir(), `npm-fill-${process.pid}`);
  rmSync(dir, { recursive: true, force: true });
  try {
    mkdirSync(dir, { recursive: true });
    for (const f of ['package.json', 'package-lock.json']) cpSync(join(ROOT, f), join(dir, f));
    for (const top of ['packages', 'services', 'bench']) {
      if (!existsSync(join(ROOT, top))) continue;
      const dirs = top === 'bench' ? [''] : readdirSync(join(ROOT, top));
      for (const d of dirs) {
        const manifest = join(ROOT, top, d, 'package.json');
        if (existsSync(manifest)) cpSync(manifest, join(dir, top, d, 'package.json'));
      }
    }
    log('filling npm\'s cache with the locked packages for the offline build');
    const r = spawnSync('npm', ['ci', '--ignore-scripts', '--no-audit', '--no-fund'], { cwd: dir, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) throw new Error(`npm ci (to fill npm's cache) failed (exit ${r.status}); see the output above`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Where the build sees npm's cache (the Dockerfile's NPM_OFFLINE_CACHE). */
const OFFLINE_CACHE_MOUNT = '/npm-offline-cache';

function buildOne(service, base, cache) {
  const args = [
    'build',
    '--pull=never',
    '--network=none',
    '--layers',
    '--file', join(ROOT, 'Dockerfile'),
    '--build-arg', `NODE_IMAGE=${base}`,
    '--build-arg', `SERVICE=${service}`,
    '--build-arg', `NPM_OFFLINE_CACHE=${OFFLINE_CACHE_MOUNT}`,
    // An overlay of npm's cache: the build reads it and its writes are thrown away.
    '--volume', `${cache}:${OFFLINE_CACHE_MOUNT}:O`,
    '--tag', imageName(service),
    ROOT,
  ];
  return tryPodman(args);
}

/**
 * Builds the images of `services` (all seven by default) from the Dockerfile, without network:
 * the stages that do not depend on the service are built once and reused from podman's layer
 * cache for the others. Returns each image with its build time.
 * @param {string[]} [services]
 * @param {LogOption} [options]
 * @returns {{ service: string, image: string, seconds: number }[]}
 */
export function buildImages(services = SERVICES, { log = toStderr } = {}) {
  ensureContainerTools({ log });
  const base = ensureBaseImage({ log });
  const cache = npmCache();
  const built = [];
  for (const service of services) {
    if (!SERVICES.includes(service)) throw new Error(`"${service}" is not a service (packages/contracts/services.json lists ${SERVICES.join(', ')})`);
    const t0 = Date.now();
    let r = buildOne(service, base, cache);
    if (r.status !== 0 && /ENOTCACHED/.test(`${r.stdout}${r.stderr}`)) {
      fillNpmCache({ log });
      r = buildOne(service, base, cache);
    }
    if (r.error) throw r.error;
    if (r.status !== 0) throw new Error(`podman build of ${service} failed (exit ${r.status}):\n${`${r.stdout}\n${r.stderr}`.trim().split('\n').slice(-60).join('\n')}`);
    const seconds = (Date.now() - t0) / 1000;
    log(`built ${imageName(service)} in ${seconds.toFixed(1)} s`);
    built.push({ service, image: imageName(service), seconds });
  }
  // Each change of the sources leaves the previous build's stages behind as untagged images;
  // those of the last two days stay as the layer cache.
  tryPodman(['image', 'prune', '--force', '--filter', 'until=48h']);
  return built;
}

/** An image's size in bytes, as podman reports it (all its layers). */
export function imageSize(image) {
  return Number(podman(['image', 'inspect', '--format', '{{.Size}}', image]).trim());
}

/** Writes the images to one archive for `kind load image-archive` or `minikube image load`. */
export function saveImages(file, services = SERVICES) {
  podman(['save', '--format', 'docker-archive', '--multi-image-archive', '--output', file, ...services.map((s) => imageName(s))]);
  return file;
}

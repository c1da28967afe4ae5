// A Confluent-compatible schema registry: Apicurio Registry 3, whose Confluent API is served
// under /apis/ccompat/v7. Maven Central carries its built Quarkus application (the quarkus-app
// directory, as a tar.gz with classifier `all`); it is unpacked through Maven once into the
// cache (PIPEWRIGHT_CACHE, default ~/.cache/pipewright) and run from there with Java 21 or
// newer. Storage is Apicurio's default, H2 in memory: every start is an empty registry.
//
//   node scripts/lib/registry.mjs     provisions it if missing and prints where it is
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, withLock } from './k8s-tools.mjs';
import { PrerequisiteError, freePort, isRunning, stopChild } from './proc.mjs';

export const REGISTRY_VERSION = process.env.PIPEWRIGHT_REGISTRY_VERSION ?? '3.3.3';
const ARTIFACT = `io.apicurio:apicurio-registry-app:${REGISTRY_VERSION}:tar.gz:all`;
// Pinned: Maven 3.8's default (2.8) ignores the tar's PAX headers, and long file names come out cut.
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1';
const JAVA_MAJOR = 21;

/** @param {number} ms */
const seconds = (ms) => `${(ms / 1000).toFixed(1)} s`;

export function registryHome() {
  return join(cacheDir(), `apicurio-registry-${REGISTRY_VERSION}`);
}

/** The major version a `java` binary reports, or undefined when it cannot be run. */
function javaMajor(bin) {
  const r = spawnSync(bin, ['-version'], { encoding: 'utf8' });
  const m = /version "(\d+)(?:\.(\d+))?/.exec(`${r.stderr ?? ''}${r.stdout ?? ''}`);
  if (r.error || r.status !== 0 || !m) return undefined;
  return m[1] === '1' ? Number(m[2]) : Number(m[1]);
}

let javaFound;
/** A Java of at least JAVA_MAJOR: JAVA_HOME's, else the one on PATH, else one in /usr/lib/jvm. */
export function registryJava() {
  if (javaFound) return javaFound;
  const jvms = '/usr/lib/jvm';
  const installed = existsSync(jvms) ? readdirSync(jvms).sort().reverse().map((d) => join(jvms, d, 'bin', 'java')) : [];
  const seen = [];
  for (const bin of [process.env.JAVA_HOME ? join(process.env.JAVA_HOME, 'bin', 'java') : undefined, 'java', ...installed]) {
    if (!bin || (bin.startsWith('/') && !existsSync(bin))) continue;
    const major = javaMajor(bin);
    if (major !== undefined && major >= JAVA_MAJOR) return (javaFound = bin);
    seen.push(`${bin}: ${major ?? 'cannot run'}`);
  }
  throw new PrerequisiteError(`Apicurio Registry ${REGISTRY_VERSION} needs Java ${JAVA_MAJOR} or newer and none was found (${seen.join(', ') || 'no java'}): install one (e.g. Temurin ${JAVA_MAJOR}+) and set JAVA_HOME to it`);
}

/**
 * Provisions the registry once: Maven fetches the distribution from Maven Central (into the
 * local Maven repository) and unpacks it into the cache. Returns the directory that holds
 * quarkus-run.jar. Parallel callers wait for the first.
 */
export function ensureRegistry({ log = console.log } = {}) {
  const home = registryHome();
  const ready = () => existsSync(join(home, 'quarkus-run.jar')) && existsSync(join(home, '.complete'));
  if (ready()) return home;
  registryJava();
  return withLock(join(cacheDir(), '.apicurio-registry.lock'), () => {
    if (ready()) return home;
    const started = Date.now();
    log(`downloading Apicurio Registry ${REGISTRY_VERSION} (${ARTIFACT}) through Maven into ${home} (once)`);
    // Maven runs in a scratch directory: outside a project, the plugin keeps its markers in a
    // literal ${project.basedir}/target below the directory it runs in.
    const scratch = `${home}.${process.pid}.tmp`;
    const unpacked = join(scratch, 'registry');
    rmSync(scratch, { recursive: true, force: true });
    mkdirSync(scratch, { recursive: true });
    try {
      const r = spawnSync('mvn', ['-q', '-B', `${DEPENDENCY_PLUGIN}:unpack`, `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${unpacked}`], {
        cwd: scratch,
        stdio: 'inherit',
      });
      if (r.error) {
        throw new PrerequisiteError(`mvn is required to download Apicurio Registry from Maven Central but could not be run (${/** @type {NodeJS.ErrnoException} */ (r.error).code ?? r.error.message}): install it (Debian: apt-get install maven)`);
      }
      if (r.status !== 0 || !existsSync(join(unpacked, 'quarkus-run.jar'))) {
        throw new Error(`Maven could not fetch ${ARTIFACT} (exit ${r.status}); see the output above`);
      }
      writeFileSync(join(unpacked, '.complete'), new Date().toISOString());
      rmSync(home, { recursive: true, force: true });
      renameSync(unpacked, home);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
    log(`Apicurio Registry ${REGISTRY_VERSION} provisioned in ${seconds(Date.now() - started)}`);
    return home;
  });
}

/** Whether GET url answers 200. */
async function answers(url) {
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch {
    return false;
  }
}

/**
 * Starts the registry on 127.0.0.1 (its management interface too, on a port of its own) with
 * a global BACKWARD compatibility rule, as a Confluent registry has by default (Apicurio's own
 * default, none, lets any change through). Resolves once `${url}/subjects` answers 200.
 * @param {{ port?: number, logFile?: string, heap?: string, timeoutMs?: number, log?: (m: string) => void }} [options]
 */
export async function startRegistry({ port, logFile, heap = '256m', timeoutMs = 90_000, log = console.log } = {}) {
  const home = ensureRegistry({ log });
  const java = registryJava();
  port ??= await freePort();
  const managementPort = await freePort();
  const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
  const args = [
    `-Xmx${heap}`,
    `-Dquarkus.http.host=127.0.0.1`,
    `-Dquarkus.http.port=${port}`,
    `-Dquarkus.management.host=127.0.0.1`,
    `-Dquarkus.management.port=${managementPort}`,
    '-Dapicurio.rules.global.compatibility=BACKWARD',
    '-jar',
    join(home, 'quarkus-run.jar'),
  ];
  const started = Date.now();
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  // Run from its own directory: Quarkus reads .env and config/application.properties from there.
  // Its own process group: a terminal's Ctrl-C reaches the launcher, which stops it last.
  const child = spawn(java, args, { cwd: home, stdio: ['ignore', out, out], detached: true });
  if (typeof out === 'number') closeSync(out);
  /** @type {string | undefined} */
  let exited;
  child.on('error', (err) => (exited = err.message));
  child.on('exit', (code, signal) => (exited ??= `exit ${code ?? signal}`));
  const onExit = () => isRunning(child) && child.kill('SIGKILL');
  process.on('exit', onExit);
  child.on('exit', () => process.off('exit', onExit));

  const deadline = started + timeoutMs;
  while (!(await answers(`${url}/subjects`))) {
    if (exited) throw new Error(`Apicurio Registry did not start (${exited}); see ${logFile ?? 'its output (pass logFile)'}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`Apicurio Registry did not answer on ${url}/subjects within ${timeoutMs} ms; see ${logFile ?? 'its output (pass logFile)'}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  log(`Apicurio Registry ${REGISTRY_VERSION} ready at ${url} in ${seconds(Date.now() - started)} (pid ${child.pid})`);
  return {
    url,
    port,
    managementPort,
    child,
    stop: () => stopChild(child, 20_000),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureRegistry());
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}

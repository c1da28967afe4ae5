// Where each service is: its flag (--scheduler host:port), else PIPEWRIGHT_<SERVICE>, else the
// local run's processes.json (written by `npm start`), else 127.0.0.1 and its default port.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_LIST } from './generated.mjs';

/** PIPEWRIGHT_INGEST_GATEWAY for ingest-gateway. */
export const envName = (service) => `PIPEWRIGHT_${service.toUpperCase().replace(/-/g, '_')}`;
/** commander's key of the --<service> option: ingestGateway for ingest-gateway. */
const optionKey = (service) => service.replace(/-([a-z])/g, (_, c) => c.toUpperCase());

/** The repository this CLI is part of (packages/cli of it), when it runs from one rather than an installed package. */
const REPOSITORY = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const IN_REPOSITORY = existsSync(join(REPOSITORY, 'packages', 'cli', 'package.json'));

/**
 * The local run's processes.json: in $PIPEWRIGHT_HOME, else the nearest .pipewright/ from the
 * current directory up, else the repository's (when the CLI runs from one).
 */
function processesFile() {
  if (process.env.PIPEWRIGHT_HOME) return join(process.env.PIPEWRIGHT_HOME, 'processes.json');
  for (let dir = process.cwd(); ; dir = dirname(dir)) {
    const file = join(dir, '.pipewright', 'processes.json');
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) break;
  }
  return IN_REPOSITORY ? join(REPOSITORY, '.pipewright', 'processes.json') : undefined;
}

/** The gRPC address of each service in the local run's processes.json (the first instance of each). */
function localRunAddresses() {
  const file = processesFile();
  const found = new Map();
  if (!file || !existsSync(file)) return found;
  try {
    for (const p of JSON.parse(readFileSync(file, 'utf8'))) if (p.service && p.grpc && !found.has(p.service)) found.set(p.service, p.grpc);
  } catch {
    // A file being rewritten or not JSON: the defaults stand.
  }
  return found;
}

/**
 * Where `service` is, and where that came from (its flag, the environment, the local run, the default).
 * @param {string} service
 * @param {Record<string, any>} opts the command's options with the global ones
 */
export function addressOf(service, opts) {
  const flag = opts[optionKey(service)];
  if (flag) return { address: flag, from: `--${service}` };
  const env = process.env[envName(service)];
  if (env) return { address: env, from: envName(service) };
  const local = localRunAddresses().get(service);
  if (local) return { address: local, from: 'local run' };
  const info = SERVICE_LIST.find((s) => s.name === service);
  return { address: `127.0.0.1:${info?.grpcPort}`, from: 'default' };
}

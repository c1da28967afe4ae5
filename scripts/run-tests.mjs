// Runs every test file with node --test. Kafka and PostgreSQL are started once here and shared
// (each test stack gets its own database); KAFKA_BROKERS / DATABASE_URL use existing ones.
import { spawn } from 'node:child_process';
import { readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, startInfrastructure } from './lib/system.mjs';
import { makeWorkDir } from './lib/proc.mjs';

function testFiles(dir) {
  const out = [];
  if (!existsSync(dir)) return out;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory() && e.name !== 'node_modules' && e.name !== 'dist') out.push(...testFiles(p));
    else if (e.isFile() && /\.test\.mjs$/.test(e.name)) out.push(p);
  }
  return out;
}

const only = process.argv.slice(2);
const files = only.length
  ? only
  : [...testFiles(join(ROOT, 'packages')), ...testFiles(join(ROOT, 'services')), ...testFiles(join(ROOT, 'test'))].sort();

const workDir = makeWorkDir('pipewright-test-');
let infra;
try {
  infra = await startInfrastructure({ workDir, log: (m) => console.log(`[test] ${m}`) });
} catch (err) {
  // One line: what is missing or failed, and what to do.
  console.error(`[test] ${err.prerequisite ? 'cannot start' : 'start failed'}: ${err.message.split('\n')[0]}`);
  rmSync(workDir, { recursive: true, force: true });
  process.exit(1);
}
console.log(`[test] Kafka ${infra.brokers}; PostgreSQL ready; ${files.length} test files`);

const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-reporter=spec', ...files], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, KAFKA_BROKERS: infra.brokers, DATABASE_URL: infra.databaseUrl, PIPEWRIGHT_TEST_WORKDIR: workDir },
});
let interrupted = false;
process.on('SIGINT', () => { interrupted = true; child.kill('SIGINT'); });
const code = await new Promise((r) => child.on('exit', (c) => r(c ?? 1)));
await infra.stop();
if (code === 0 && !interrupted) rmSync(workDir, { recursive: true, force: true });
else console.log(`[test] logs kept in ${workDir}`);
process.exit(code);

// The lint steps `npm test` runs before the tests: `buf lint` on the protos with the rules
// configured in proto/buf.yaml, Prettier (.prettierrc) and ESLint (eslint.config.mjs) on the
// TypeScript sources of the packages and services. Exits non-zero, naming the step, when one fails.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './lib/system.mjs';

const bin = (name) => join(ROOT, 'node_modules', '.bin', name);
const sources = ['packages/*/src/**/*.ts', 'services/*/src/**/*.ts'];
const steps = [
  { name: 'buf lint (proto/buf.yaml)', cmd: bin('buf'), args: ['lint', 'proto'] },
  { name: 'prettier --check (.prettierrc)', cmd: bin('prettier'), args: ['--check', ...sources] },
  { name: 'eslint (eslint.config.mjs)', cmd: bin('eslint'), args: [...sources] },
];

let failed = 0;
for (const s of steps) {
  const r = spawnSync(s.cmd, s.args, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) {
    console.error(`[lint] ${s.name} could not run (${r.error.message}); run npm ci`);
    failed += 1;
  } else if (r.status !== 0) {
    console.error(`[lint] ${s.name} failed; see above`);
    failed += 1;
  } else {
    console.log(`[lint] ${s.name}: clean`);
  }
}
process.exit(failed ? 1 : 0);

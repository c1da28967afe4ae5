// npm pack of the CLI: `copy` (prepack) puts in dist/ what it loads from workspace packages that
// are not published — the code generated from proto/ (@pipewright/proto's build) and
// services.json (@pipewright/contracts) — so that the tarball installs on its own; `clean`
// (postpack) removes them again. lib/generated.mjs loads the workspace's when it can, these otherwise.
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const DIST = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist');

function copy() {
  const protoDir = dirname(require.resolve('@pipewright/proto/package.json'));
  const built = join(protoDir, 'dist');
  if (!existsSync(join(built, 'index.js'))) {
    console.error('pack-generated: @pipewright/proto is not built: run `npm run build` at the repository root first');
    process.exit(1);
  }
  rmSync(DIST, { recursive: true, force: true });
  mkdirSync(DIST, { recursive: true });
  cpSync(built, join(DIST, 'proto'), { recursive: true, filter: (src) => !/\.(map|d\.ts)$/.test(src) });
  // The generated code is CommonJS; this package is ESM.
  writeFileSync(join(DIST, 'proto', 'package.json'), `${JSON.stringify({ type: 'commonjs' })}\n`);
  cpSync(require.resolve('@pipewright/contracts/services.json'), join(DIST, 'services.json'));
}

const clean = () => rmSync(DIST, { recursive: true, force: true });

const what = process.argv[2];
if (what === 'copy') copy();
else if (what === 'clean') clean();
else {
  console.error('usage: node scripts/pack-generated.mjs copy|clean');
  process.exit(2);
}

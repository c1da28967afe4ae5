// The files of one service's container image, taken from a built workspace: the compiled
// packages, the service itself (compiled code, migrations, data files; no sources), proto/ for
// server reflection, and main.js linking to the service's entry point. The Dockerfile runs it;
// the k8s tests run the same to start services from an image's layout.
//
//   node scripts/lib/k8s-image-files.mjs <service> <output directory>
import { cpSync, existsSync, mkdirSync, readdirSync, symlinkSync } from 'node:fs';
import { basename, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LEFT_OUT = new Set(['src', 'test', 'node_modules', 'tsconfig.json']);
const keep = (path) => !LEFT_OUT.has(basename(path)) && !path.endsWith('.tsbuildinfo');

export function copyImageFiles(service, out, root = ROOT) {
  if (!/^[a-z0-9-]+$/.test(service ?? '') || !existsSync(join(root, 'services', service, 'dist', 'main.js'))) {
    throw new Error(`"${service}" is not a built service: expected services/${service}/dist/main.js (run npm run build)`);
  }
  mkdirSync(out, { recursive: true });
  cpSync(join(root, 'proto'), join(out, 'proto'), { recursive: true });
  for (const pkg of readdirSync(join(root, 'packages'))) {
    cpSync(join(root, 'packages', pkg), join(out, 'packages', pkg), { recursive: true, filter: keep });
  }
  cpSync(join(root, 'services', service), join(out, 'services', service), { recursive: true, filter: keep });
  symlinkSync(join('services', service, 'dist', 'main.js'), join(out, 'main.js'));
  return out;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const [service, out] = process.argv.slice(2);
  try {
    copyImageFiles(service, out);
  } catch (err) {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  }
}

// The files of one service's container image, taken from a built workspace: the compiled
// workspace packages it depends on (not the test kit), the service itself (compiled code, migrations, data files; no sources), proto/ for
// server reflection, and main.js linking to the service's entry point. The Dockerfile runs it;
// the k8s tests run the same to start services from an image's layout.
//
//   node scripts/lib/k8s-image-files.mjs <service> <output directory>
import { cpSync, existsSync, mkdirSync, readFileSync, readdirSync, symlinkSync } from 'node:fs';
import { basename, join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LEFT_OUT = new Set(['src', 'test', 'node_modules', 'tsconfig.json']);
const keep = (path) => !LEFT_OUT.has(basename(path)) && !path.endsWith('.tsbuildinfo');

const manifest = (dir) => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));

/** The directories under packages/ that a service runs with: its @pipewright dependencies and theirs. */
export function workspacePackages(service, root = ROOT) {
  const byName = new Map(readdirSync(join(root, 'packages')).map((d) => [manifest(join(root, 'packages', d)).name, d]));
  const needed = new Set();
  const queue = [join(root, 'services', service)];
  while (queue.length) {
    for (const name of Object.keys(manifest(queue.pop()).dependencies ?? {})) {
      const dir = byName.get(name);
      if (dir === undefined || needed.has(dir)) continue;
      needed.add(dir);
      queue.push(join(root, 'packages', dir));
    }
  }
  return [...needed].sort();
}

export function copyImageFiles(service, out, root = ROOT) {
  if (!/^[a-z0-9-]+$/.test(service ?? '') || !existsSync(join(root, 'services', service, 'dist', 'main.js'))) {
    throw new Error(`"${service}" is not a built service: expected services/${service}/dist/main.js (run npm run build)`);
  }
  mkdirSync(out, { recursive: true });
  cpSync(join(root, 'proto'), join(out, 'proto'), { recursive: true });
  for (const pkg of workspacePackages(service, root)) {
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

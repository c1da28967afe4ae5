// The services' container images, built with podman from the Dockerfile, without a registry
// and without network inside the build (scripts/lib/containers.mjs says how):
//
//   node scripts/images.mjs [service ...]                    builds them (all seven by default)
//   node scripts/images.mjs save <archive.tar> [service ...] builds them and writes one archive
//                                                            for kind load image-archive or
//                                                            minikube image load
//   node scripts/images.mjs podman <args ...>                podman with the project's settings
//                                                            and storage (podman images, run ...)
import { spawnSync } from 'node:child_process';
import { resolve } from 'node:path';
import { SERVICES, buildImages, ensureContainerTools, imageSize, podmanEnv, podmanGlobalArgs, saveImages } from './lib/containers.mjs';

const say = (m) => process.stdout.write(`[images] ${m}\n`);
const [first, ...rest] = process.argv.slice(2);

try {
  if (first === 'podman') {
    ensureContainerTools({ log: say });
    const r = spawnSync('podman', [...podmanGlobalArgs(), ...rest], { env: podmanEnv(), stdio: 'inherit' });
    process.exit(r.status ?? 1);
  }
  const archive = first === 'save' ? rest.shift() : undefined;
  if (first === 'save' && !archive) throw new Error('usage: node scripts/images.mjs save <archive.tar> [service ...]');
  const services = first === 'save' ? rest : process.argv.slice(2);
  const t0 = Date.now();
  const built = buildImages(services.length ? services : SERVICES, { log: say });
  for (const b of built) say(`${b.image.padEnd(46)} ${(imageSize(b.image) / 1e6).toFixed(0).padStart(4)} MB  built in ${b.seconds.toFixed(1)} s`);
  say(`${built.length} image${built.length === 1 ? '' : 's'} in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
  if (archive) {
    saveImages(resolve(archive), built.map((b) => b.service));
    say(`wrote ${resolve(archive)}: kind load image-archive ${archive} --name pipewright, or minikube image load ${archive}`);
  }
} catch (err) {
  process.stderr.write(`[images] ${err instanceof Error ? err.message : err}\n`);
  process.exit(1);
}

// Debian packages that the scripts install themselves when missing: as root with apt-get (the
// package lists updated once if the first try fails), one install at a time across processes.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { cacheDir, withLock } from './k8s-tools.mjs';
import { PrerequisiteError, isRoot } from './proc.mjs';

/** Whether apt-get can install here: Linux, root, apt-get on the PATH. */
export const canAptInstall = () => process.platform === 'linux' && isRoot() && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0;

/**
 * Installs `packages` with apt-get unless `present()` says they are there (checked again under
 * the lock). Not root: a PrerequisiteError whose message is `unavailable` plus the command to run.
 * @param {string[]} packages
 * @param {{ present: () => boolean, unavailable: string, lockName: string, log: (line: string) => void }} options
 */
export function aptInstall(packages, { present, unavailable, lockName, log }) {
  if (present()) return;
  const install = `apt-get install -y --no-install-recommends ${packages.join(' ')}`;
  if (!canAptInstall()) throw new PrerequisiteError(`${unavailable} (Debian: ${install})`);
  withLock(join(cacheDir(), lockName), () => {
    if (present()) return;
    log(`installing ${packages.join(', ')} from Debian's packages (once)`);
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    const args = ['install', '-y', '-q', '--no-install-recommends', ...packages];
    let r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    if (r.status !== 0) {
      // The package lists may be missing or stale.
      spawnSync('apt-get', ['update', '-q'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
      r = spawnSync('apt-get', args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    }
    if (r.status !== 0) throw new Error(`${install} failed (exit ${r.status}); see the output above`);
  });
}

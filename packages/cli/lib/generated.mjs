// The code generated from proto/ and the list of services: in the repository, the workspace's
// @pipewright/proto and packages/contracts/services.json; in a packed CLI (npm pack), the copies
// that scripts/pack-generated.mjs put in dist/ from those same files.
import { createRequire } from 'node:module';
import { CliError } from './errors.mjs';

const require = createRequire(import.meta.url);

function load(workspace, packed) {
  for (const id of [workspace, packed]) {
    try {
      return require(id);
    } catch (err) {
      if (/** @type {NodeJS.ErrnoException} */ (err).code !== 'MODULE_NOT_FOUND') throw err;
    }
  }
  throw new CliError(`${workspace} is missing: build the repository first (npm run build), or install a packed CLI`);
}

/** @type {typeof import('@pipewright/proto')} */
export const proto = load('@pipewright/proto', '../dist/proto/index.js');

/** name and grpcPort of every service, in the order of services.json. @type {Array<{ name: string, grpcPort: number }>} */
export const SERVICE_LIST = load('@pipewright/contracts/services.json', '../dist/services.json').services;

// The services of pipewright, as packages/contracts/services.json lists them: the one list the
// launcher, the tests, the chart schema generator and the umbrella chart (scripts/gen-charts.mjs)
// take them from.
import { readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SERVICES_FILE = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'packages', 'contracts', 'services.json');

/** name, grpcPort, database, grpcService, consumes, produces — in the order of the file. */
export const SERVICE_LIST = JSON.parse(readFileSync(SERVICES_FILE, 'utf8')).services;

// One list of services (packages/contracts/services.json): what the launcher, the services'
// own default ports, the chart schema generator and the umbrella chart use is that list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { SERVICE_LIST } from '../../scripts/lib/services.mjs';
import { ROOT, LAUNCHED_SERVICES } from '@pipewright/testkit';
import { SERVICES as CHARTED } from '../../scripts/lib/k8s-schema.mjs';
import { generatedBlocks, withBlock } from '../../scripts/gen-charts.mjs';

const require = createRequire(import.meta.url);
const { loadConfig } = require('@pipewright/platform');

test('every service in services.json has its package, its chart, and the default gRPC port the list gives', () => {
  for (const s of SERVICE_LIST) {
    assert.ok(existsSync(join(ROOT, 'services', s.name, 'package.json')), `services/${s.name}`);
    assert.ok(existsSync(join(ROOT, 'charts', s.name, 'Chart.yaml')), `charts/${s.name}`);
    const { settings } = require(join(ROOT, 'services', s.name, 'dist', 'config.js'));
    const env = { KAFKA_BROKERS: 'k:9092', DATABASE_URL: 'postgres://u:p@h:5432/d' };
    assert.equal(loadConfig(settings, env).GRPC_PORT, s.grpcPort, `${s.name} default GRPC_PORT`);
    assert.equal('DATABASE_URL' in settings, s.database, `${s.name} uses PostgreSQL as the list says`);
  }
  assert.deepEqual(LAUNCHED_SERVICES, SERVICE_LIST.map((s) => s.name), 'the launcher starts the listed services');
  assert.deepEqual(CHARTED, SERVICE_LIST.map((s) => s.name), 'the chart schemas are made for the listed services');
});

test('what the umbrella chart takes from services.json is current (node scripts/gen-charts.mjs)', () => {
  for (const block of generatedBlocks()) {
    const text = readFileSync(block.file, 'utf8');
    assert.equal(text, withBlock(text, block), `${block.file.replace(`${ROOT}/`, '')} is stale: run node scripts/gen-charts.mjs`);
  }
});

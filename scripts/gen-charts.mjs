// Writes what the charts take from packages/contracts/services.json: the umbrella's dependency on
// each service chart (Chart.yaml), the topics each service consumes (templates/checks.yaml, for
// the autoscaling limit), and the library's table of each service's Kafka ACLs
// (pipewright-lib/templates/_kafka-acls.tpl, for the KafkaUsers) and of each service's gRPC port
// (pipewright-lib/templates/_peers.tpl, for the addresses of the others), each between markers.
//
//   node scripts/gen-charts.mjs           rewrites them
//   (test/k8s/services.test.mjs fails when they are stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_LIST } from './lib/services.mjs';
import { appTopicAcl, kafkaAcls, readApps } from './lib/kafka-acls.mjs';

const CHARTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'charts');

/** Each generated block: its file, and the lines it must hold. */
export function generatedBlocks() {
  const deps = SERVICE_LIST.flatMap((s) => [
    `  - name: ${s.name}`,
    '    version: 0.1.0',
    `    repository: file://../${s.name}`,
    `    condition: ${s.name}.enabled`,
  ]);
  const consumers = SERVICE_LIST.filter((s) => s.consumes.length);
  const consumes = [
    '{{- $consumes := dict',
    ...consumers.map((s, i) => `  ${JSON.stringify(s.name)} (list ${s.consumes.map((t) => JSON.stringify(t)).join(' ')})${i === consumers.length - 1 ? ' -}}' : ''}`),
  ];
  // The apps' ACLs follow the release's registry (the template adds them); the images' own registry's are listed.
  const defaultApps = Object.entries(readApps()).filter(([, app]) => app.handler === 'kafka.publish');
  const acls = [
    'services:',
    ...kafkaAcls({ apps: {} }).flatMap((t) => [`  ${t.service}:${t.acls.length ? '' : ' []'}`, ...t.acls.map((a) => `    - ${JSON.stringify(a)}`)]),
    `publishesForApps: ${JSON.stringify(SERVICE_LIST.filter((s) => s.publishesForApps).map((s) => s.name))}`,
    'defaultAppAcls:',
    ...defaultApps.map(([name, app]) => `  - ${JSON.stringify({ ...appTopicAcl(name, app), operations: ['Write', 'Create'] })}`),
  ];
  return [
    { file: join(CHARTS, 'pipewright', 'Chart.yaml'), begin: '# services:begin', end: '# services:end', lines: deps },
    { file: join(CHARTS, 'pipewright-lib', 'templates', '_kafka-acls.tpl'), begin: '{{- /* acls:begin */ -}}', end: '{{- /* acls:end */ -}}', lines: acls },
    { file: join(CHARTS, 'pipewright-lib', 'templates', '_peers.tpl'), begin: '{{- /* ports:begin */ -}}', end: '{{- /* ports:end */ -}}', lines: SERVICE_LIST.map((s) => `${s.name}: ${s.grpcPort}`) },
    { file: join(CHARTS, 'pipewright', 'templates', 'checks.yaml'), begin: '{{- /* services:begin */ -}}', end: '{{- /* services:end */ -}}', lines: consumes },
  ];
}

/** The file's text with its block replaced; throws when the markers are missing. */
export function withBlock(text, { begin, end, lines, file }) {
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a < 0 || b < a) throw new Error(`${file} has no ${begin} … ${end} block`);
  return `${text.slice(0, a + begin.length)}\n${lines.join('\n')}\n${text.slice(b)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const block of generatedBlocks()) {
    writeFileSync(block.file, withBlock(readFileSync(block.file, 'utf8'), block));
    console.log(`wrote ${block.file}`);
  }
}

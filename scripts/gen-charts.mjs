// Writes what the umbrella chart takes from packages/contracts/services.json: its dependency on
// each service chart (Chart.yaml) and the topics each service consumes (templates/checks.yaml,
// for the autoscaling limit), each between `# services:begin` and `# services:end` markers.
//
//   node scripts/gen-charts.mjs           rewrites them
//   (test/k8s/services.test.mjs fails when they are stale)
import { readFileSync, writeFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_LIST } from './lib/services.mjs';

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
  return [
    { file: join(CHARTS, 'pipewright', 'Chart.yaml'), begin: '# services:begin', end: '# services:end', lines: deps },
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

// The documentation stays current: the generated settings tables, and every link between pages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { join, dirname, resolve } from 'node:path';
import { ROOT, allSettings, generatedTables, withTable } from '../scripts/settings-table.mjs';

const read = (rel) => readFileSync(join(ROOT, rel), 'utf8');
const DOCS = readdirSync(join(ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`);
const SERVICE_PAGES = readdirSync(join(ROOT, 'services')).filter((d) => existsSync(join(ROOT, 'services', d, 'README.md'))).map((d) => `services/${d}/README.md`);
const PAGES = ['README.md', 'bench/README.md', ...DOCS, ...SERVICE_PAGES];

/** GitHub's anchor of a heading: lower case, punctuation dropped, spaces to dashes. */
const anchor = (heading) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N} _-]/gu, '').replace(/ /g, '-');
const anchorsOf = (text) => new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1])));

test('the configuration reference documents every setting the services declare', () => {
  const page = read('docs/configuration.md');
  const missing = allSettings().map((s) => s.name).filter((name) => !page.includes(`\`${name}\``));
  assert.deepEqual(missing, [], 'run node scripts/settings-table.mjs --write');
});

test('every generated settings table (the configuration reference and each service README) is current', () => {
  for (const { file, table } of generatedTables()) {
    const text = readFileSync(file, 'utf8');
    assert.equal(text, withTable(text, table, file), `${file.replace(`${ROOT}/`, '')} is stale: run node scripts/settings-table.mjs --write`);
  }
});

test('every link between the documentation pages leads to a file that exists, and to a heading that exists', () => {
  const broken = [];
  for (const page of PAGES) {
    const text = read(page);
    for (const [, target] of text.matchAll(/\]\(([^)\s]+)\)/g)) {
      if (/^(https?:|mailto:)/.test(target)) continue;
      const [path, hash] = target.split('#');
      const file = path ? resolve(dirname(join(ROOT, page)), path) : join(ROOT, page);
      if (!existsSync(file)) broken.push(`${page}: ${target} (no such file)`);
      else if (hash && file.endsWith('.md') && !anchorsOf(readFileSync(file, 'utf8')).has(hash)) broken.push(`${page}: ${target} (no such heading)`);
    }
  }
  assert.deepEqual(broken, []);
});

test('the front door links every page of docs/ and every service README', () => {
  const front = read('README.md');
  const missing = [...DOCS, ...SERVICE_PAGES].filter((p) => !front.includes(`](${p})`));
  assert.deepEqual(missing, []);
});

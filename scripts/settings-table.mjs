// The settings tables of the documentation, generated from the services' own declarations: the
// configuration reference (docs/configuration.md: every setting of every service) and, in each
// service's README, the table of the settings of its own. Each sits between `<!-- settings:begin -->` and
// `<!-- settings:end -->`.
//
//   node scripts/settings-table.mjs           prints the configuration reference's table
//   node scripts/settings-table.mjs --write   rewrites every generated table in place
import { createRequire } from 'node:module';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync, writeFileSync } from 'node:fs';
import { SERVICE_LIST as SERVICES } from './lib/services.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

const require = createRequire(import.meta.url);
const { describeSettings, serviceSettings } = require('@pipewright/platform');

export function allSettings() {
  const byName = new Map();
  for (const s of SERVICES) {
    const { settings } = require(join(ROOT, 'services', s.name, 'dist', 'config.js'));
    for (const d of describeSettings(settings)) {
      const entry = byName.get(d.name) ?? { ...d, services: [], defaults: [] };
      entry.services.push(s.name);
      entry.defaults.push(d.default);
      byName.set(d.name, entry);
    }
  }
  return [...byName.values()];
}

const meaning = (d) => `${d.description}${d.secret ? ' (secret)' : ''}${d.formerly ? `; formerly \`${d.formerly}\` (milliseconds), still read` : ''}`.replaceAll('|', '\\|');
const shown = (value) => `\`${value.replace(ROOT, '.')}\``;

/** The configuration reference's table: every setting, which services have it, its default and meaning. */
export function configurationTable() {
  const everyone = SERVICES.length;
  const lines = ['| setting | services | default | meaning |', '|---|---|---|---|'];
  for (const d of allSettings()) {
    const who = d.services.length === everyone ? 'all' : d.services.join(', ');
    const differs = new Set(d.defaults).size > 1;
    const def = d.required
      ? '**required**'
      : differs
        ? d.services.map((s, i) => `${s} \`${d.defaults[i]}\``).join(', ')
        : d.default === undefined ? '(unset)' : shown(d.default);
    lines.push(`| \`${d.name}\` | ${who} | ${def} | ${meaning(d)} |`);
  }
  return lines.join('\n');
}

/** A service's own settings (those beyond the ones every service has). */
export function serviceTable(name) {
  const common = new Set(Object.keys(serviceSettings(0, {})));
  const { settings } = require(join(ROOT, 'services', name, 'dist', 'config.js'));
  const own = describeSettings(settings).filter((d) => !common.has(d.name));
  if (own.length === 0) return 'No settings of its own: only the ones every service has.';
  const lines = ['| setting | default | meaning |', '|---|---|---|'];
  for (const d of own) lines.push(`| \`${d.name}\` | ${d.required ? '**required**' : d.default === undefined ? '(unset)' : shown(d.default)} | ${meaning(d)} |`);
  return lines.join('\n');
}

const BEGIN = '<!-- settings:begin -->';
const END = '<!-- settings:end -->';

/** Every document with a generated table: its path and the table it must hold. */
export function generatedTables() {
  return [
    { file: join(ROOT, 'docs', 'configuration.md'), table: configurationTable() },
    ...SERVICES.map((s) => ({ file: join(ROOT, 'services', s.name, 'README.md'), table: serviceTable(s.name) })),
  ];
}

/** The document with its generated block replaced by table; throws when it has no block. */
export function withTable(text, table, file) {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a < 0 || b < a) throw new Error(`${file} has no ${BEGIN} … ${END} block`);
  return `${text.slice(0, a + BEGIN.length)}\n${table}\n${text.slice(b)}`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--write')) {
    for (const { file, table } of generatedTables()) {
      writeFileSync(file, withTable(readFileSync(file, 'utf8'), table, file));
      console.log(`wrote ${file.replace(`${ROOT}/`, '')}`);
    }
  } else {
    console.log(configurationTable());
  }
}

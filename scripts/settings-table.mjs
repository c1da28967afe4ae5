// Prints every service's declared settings as a Markdown table (the README's configuration
// section is this output).
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { ROOT, SERVICES } from './lib/system.mjs';

const require = createRequire(import.meta.url);
const { describeSettings } = require('@pipewright/platform');

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

if (import.meta.url === `file://${process.argv[1]}`) {
  const all = allSettings();
  const everyone = SERVICES.length;
  console.log('| setting | services | default | meaning |');
  console.log('|---|---|---|---|');
  for (const d of all) {
    const who = d.services.length === everyone ? 'all' : d.services.join(', ');
    const differs = new Set(d.defaults).size > 1;
    const def = d.required
      ? '**required**'
      : differs
        ? d.services.map((s, i) => `${s} \`${d.defaults[i]}\``).join(', ')
        : d.default === undefined ? '(unset)' : `\`${d.default.replace(ROOT, '.')}\``;
    const text = `${d.description}${d.secret ? ' (secret)' : ''}`.replaceAll('|', '\\|');
    console.log(`| \`${d.name}\` | ${who} | ${def} | ${text} |`);
  }
}

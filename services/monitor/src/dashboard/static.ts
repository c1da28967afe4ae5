// The dashboard's files: the pages' HTML, CSS and ES modules in services/monitor/public (read
// once, at start-up: nothing else on disk can be asked for), and uPlot, the chart library, as
// its package ships it.
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, extname, join, relative, sep } from 'node:path';

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface StaticFile {
  type: string;
  body: Buffer;
}

function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

/** URL path to file: /assets/<path under public/>, and /vendor/ for uPlot. */
export function loadStaticFiles(publicDir = join(__dirname, '..', '..', 'public')): Map<string, StaticFile> {
  const files = new Map<string, StaticFile>();
  for (const file of walk(publicDir)) {
    const type = TYPES[extname(file)];
    if (type) files.set(`/assets/${relative(publicDir, file).split(sep).join('/')}`, { type, body: readFileSync(file) });
  }
  const uplot = join(dirname(require.resolve('uplot/package.json')), 'dist');
  files.set('/vendor/uPlot.esm.js', { type: TYPES['.js'], body: readFileSync(join(uplot, 'uPlot.esm.js')) });
  files.set('/vendor/uPlot.min.css', { type: TYPES['.css'], body: readFileSync(join(uplot, 'uPlot.min.css')) });
  return files;
}

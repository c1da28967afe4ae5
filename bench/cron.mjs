// The cost of computing the next cron occurrence, across clock changes in several zones and on
// an ordinary day, per occurrence (the scheduler computes one each time a recurring job fires).
// Needs a build (npm run build); runs in a few seconds:
//
//   node bench/cron.mjs
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { parseCron, nextCronOccurrence } = require('../packages/contracts/dist/index.js');
const { IANAZone } = require('luxon');

const ZONES = ['Europe/London', 'America/New_York', 'Australia/Sydney', 'Australia/Lord_Howe', 'America/Santiago', 'Antarctica/Troll'];
// Expression, and how many occurrences to time from an hour before each change.
const EXPRESSIONS = [['*/1 * * * * *', 7200], ['0 * * * * *', 240], ['*/30 * * * *', 48], ['30 1 * * *', 20], ['* * 1 * * *', 3600], ['0 9 1 7 *', 5]];

/** The clock changes of a zone in a year, to the minute. */
function changes(zone, year) {
  const z = IANAZone.create(zone);
  const out = [];
  for (let day = Date.UTC(year, 0, 1); day < Date.UTC(year + 1, 0, 1); day += 86_400_000) {
    if (z.offset(day) === z.offset(day + 86_400_000)) continue;
    let at = day;
    while (z.offset(at) === z.offset(day)) at += 60_000;
    out.push({ at, kind: z.offset(at) > z.offset(day) ? 'forward' : 'back' });
  }
  return out;
}

/** Microseconds per occurrence for n occurrences from `from`, best of three runs. */
function cost(expr, zone, from, n) {
  const c = parseCron(expr);
  let best = Infinity;
  for (let run = 0; run < 3; run++) {
    let t = new Date(from);
    const started = process.hrtime.bigint();
    for (let i = 0; i < n && t; i++) t = nextCronOccurrence(c, zone, t);
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1000 / n);
  }
  return best;
}

// The first computation in a zone reads its offsets (a few microseconds per day read, kept for
// the process): cold costs, each in a zone not used before, after one warm-up computation.
nextCronOccurrence(parseCron('0 0 * * *'), 'Asia/Tokyo', new Date());
const cold = [['*/1 * * * * *', 'Europe/Paris'], ['0 9 1 7 *', 'Europe/Berlin'], ['0 12 ? 2 MON#5', 'Europe/Rome']].map(([expr, zone]) => {
  const started = process.hrtime.bigint();
  nextCronOccurrence(parseCron(expr), zone, new Date(Date.UTC(2027, 0, 1)));
  return `${expr} in ${zone}: ${(Number(process.hrtime.bigint() - started) / 1e6).toFixed(2)} ms`;
});
console.log(`first computation in a zone (reads its offsets): ${cold.join('; ')}\n`);

const rows = [];
for (const zone of ZONES) {
  const cases = [...changes(zone, 2027).map((ch) => ({ label: `clocks ${ch.kind} ${new Date(ch.at).toISOString().slice(0, 16)}Z`, from: ch.at - 3600_000 })), { label: 'ordinary day 2027-05-12', from: Date.UTC(2027, 4, 12) }];
  for (const { label, from } of cases) {
    rows.push([zone, label, ...EXPRESSIONS.map(([expr, n]) => cost(expr, zone, from, n))]);
  }
}

const header = ['zone', 'from an hour before', ...EXPRESSIONS.map(([e]) => e)];
const cells = [header, ...rows.map(([z, l, ...us]) => [z, l, ...us.map((u) => `${u.toFixed(1)} µs`)])];
const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i].length)));
for (const [i, r] of cells.entries()) {
  console.log(r.map((c, j) => (j < 2 ? c.padEnd(widths[j]) : c.padStart(widths[j]))).join('  '));
  if (i === 0) console.log(widths.map((w) => '-'.repeat(w)).join('  '));
}
const worst = Math.max(...rows.flatMap(([, , ...us]) => us));
console.log(`\nmicroseconds per next occurrence (best of 3 runs); the most any case cost: ${worst.toFixed(1)} µs`);

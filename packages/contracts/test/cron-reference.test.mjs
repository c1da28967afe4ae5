// Occurrences against the cron-parser package for many generated expressions, start dates and
// zones. Daylight saving is where implementations legitimately differ (and where pipewright's
// rules are documented and tested on their own), so occurrences within three hours of a clock
// change are left out of the comparison on both sides.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { IANAZone } from 'luxon';
import { parseCron, nextCronOccurrence } from '@pipewright/contracts';

const { CronExpressionParser } = createRequire(import.meta.url)('cron-parser');

/** A small seeded generator (mulberry32), so a failure can be replayed. */
function random(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const DAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];

function generator(rand) {
  const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const range = (lo, hi) => {
    const a = int(lo, hi);
    return [a, int(a, hi)];
  };
  // A field of plain values: *, n, a-b, */k, a-b/k, n/k or a list of those; star: how often it is
  // *, names: the values' names from lo on.
  /** @param {number} lo @param {number} hi @param {{ star?: number, names?: string[] }} [options] */
  const plain = (lo, hi, { star = 0.3, names } = {}) => {
    const item = () => {
      const r = rand();
      const name = (v) => (names && rand() < 0.3 ? names[v - lo] : String(v));
      if (r < 0.35) return name(int(lo, hi));
      if (r < 0.6) { const [a, b] = range(lo, hi); return `${name(a)}-${name(b)}`; }
      if (r < 0.75) return `*/${int(2, Math.max(2, Math.ceil((hi - lo) / 2)))}`;
      if (r < 0.9) { const [a, b] = range(lo, hi); return `${a}-${b}/${int(1, 5)}`; }
      return `${int(lo, hi)}/${int(2, 10)}`;
    };
    if (rand() < star) return '*';
    if (rand() < 0.75) return item();
    // A list of distinct values (cron-parser refuses a list that names a value twice).
    const values = [...new Set(Array.from({ length: int(2, 4) }, () => int(lo, hi)))].sort((a, b) => a - b);
    return values.join(',');
  };
  const dom = () => {
    const r = rand();
    if (r < 0.35) return pick(['*', '?']);
    if (r < 0.5) return 'L';
    if (r < 0.6) return `${int(1, 28)},L`;
    return plain(1, 31, { star: 0 });
  };
  const dow = () => {
    const r = rand();
    if (r < 0.4) return pick(['*', '?']);
    if (r < 0.5) return `${int(0, 7)}L`;
    if (r < 0.6) return `${int(0, 6)}#${int(1, 5)}`;
    if (r < 0.65) return 'MON-FRI';
    return plain(0, 6, { star: 0, names: DAYS });
  };
  return () => {
    const fields = [
      rand() < 0.3 ? plain(0, 59, { star: 0.2 }) : null,
      plain(0, 59, { star: 0.15 }),
      plain(0, 23, { star: 0.3 }),
      dom(),
      plain(1, 12, { star: 0.6, names: MONTHS }),
      dow(),
    ];
    return fields.filter((f) => f !== null).join(' ');
  };
}

const nearClockChange = (ms, zone) => {
  const z = IANAZone.create(zone);
  return z.offset(ms - 3 * 3600_000) !== z.offset(ms + 3 * 3600_000);
};

const ZONES = ['UTC', 'America/New_York', 'Europe/London', 'Australia/Sydney', 'Asia/Kolkata', 'Asia/Kathmandu', 'America/Sao_Paulo'];
const COUNT = 12;

test('occurrences agree with cron-parser for 600 generated expressions in seven zones, away from clock changes', () => {
  const rand = random(20261231);
  const expression = generator(rand);
  let compared = 0;
  let refusedByReference = 0;
  const cases = 600;
  for (let i = 0; i < cases; i++) {
    const expr = expression();
    const zone = ZONES[i % ZONES.length];
    const from = new Date(Date.UTC(2020, 0, 1) + Math.floor(rand() * 15 * 365 * 86_400_000) + (rand() < 0.5 ? 0 : Math.floor(rand() * 1000)));
    let reference;
    try {
      reference = CronExpressionParser.parse(expr, { currentDate: from, tz: zone }).take(COUNT).map((d) => d.getTime());
    } catch (err) {
      if (process.env.CRON_REFERENCE_DEBUG) console.log(expr, err instanceof Error ? err.message : err);
      refusedByReference++;
      continue;
    }
    const cron = parseCron(expr);
    const ours = [];
    for (let t = from; ours.length < COUNT; ) {
      const next = nextCronOccurrence(cron, zone, t);
      if (!next) break;
      ours.push(next.getTime());
      t = next;
    }
    const until = Math.min(ours.at(-1) ?? -Infinity, reference.at(-1) ?? -Infinity);
    const keep = (xs) => xs.filter((t) => t <= until && !nearClockChange(t, zone)).map((t) => new Date(t).toISOString());
    const context = `${JSON.stringify(expr)} in ${zone} after ${from.toISOString()}`;
    assert.equal(ours.length, reference.length, `as many occurrences: ${context}`);
    assert.deepEqual(keep(ours), keep(reference), context);
    compared += keep(ours).length;
  }
  // The comparison is not empty: nearly every expression is one cron-parser takes too.
  assert.ok(refusedByReference < cases / 10, `cron-parser refused ${refusedByReference} of ${cases}`);
  assert.ok(compared > cases * COUNT * 0.8, `${compared} occurrences compared`);
  if (process.env.CRON_REFERENCE_DEBUG) console.log({ compared, refusedByReference });
});

test('nicknames agree with cron-parser\'s', () => {
  for (const nick of ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@hourly']) {
    for (const zone of ['UTC', 'Asia/Tokyo', 'Europe/Berlin']) {
      const from = new Date('2026-05-13T10:20:30Z');
      const reference = CronExpressionParser.parse(nick, { currentDate: from, tz: zone }).take(5).map((d) => d.toISOString());
      const ours = [];
      for (let t = from; ours.length < 5; ) {
        const next = nextCronOccurrence(parseCron(nick), zone, t);
        assert.ok(next, `${nick} in ${zone} after ${t.toISOString()}`);
        ours.push(next.toISOString());
        t = next;
      }
      assert.deepEqual(ours, reference, `${nick} in ${zone}`);
    }
  }
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createLogger } from '@pipewright/platform';
import {
  FOOTBALL_TOPICS,
  HIGH_SOCIAL_VOLUME,
  RIVALRY_LEVELS,
  WEATHER_CONDITIONS,
  CLUBS,
  createRng,
  generateMatch,
  generateMatches,
  routeMatch,
  routeMatches,
  rivalryLevel,
  matchOdds,
  footballParams,
  demoFootball,
} from '../dist/handlers/football/index.js';
import { BUILT_IN_HANDLERS, PermanentError } from '../dist/handlers/index.js';
import { parseRegistry } from '../dist/registry.js';

const NOW = new Date('2026-03-01T12:00:00Z');
const { live, training, betting, social } = FOOTBALL_TOPICS;
const SAMPLE = generateMatches('invariants', 3000, NOW);

/** A generated match with some fields replaced, for exercising one rule at a time. */
const matchWith = (fields) => ({ ...generateMatch(createRng('base'), NOW), ...fields });
const quiet = { totalGoals: 2, rivalry: 'low', expectedSocialVolume: HIGH_SOCIAL_VOLUME - 1 };

test('the same seed gives the same records; another seed gives others', () => {
  assert.deepEqual(generateMatches('derby-day', 25, NOW), generateMatches('derby-day', 25, NOW));
  assert.deepEqual(generateMatches(42, 5, NOW), generateMatches(42, 5, NOW));
  const a = generateMatches('derby-day', 25, NOW).map((m) => m.matchId);
  const b = generateMatches('derby-day-2', 25, NOW).map((m) => m.matchId);
  assert.equal(a.filter((id) => b.includes(id)).length, 0);
  // A longer run starts with the records of a shorter one.
  assert.deepEqual(generateMatches('derby-day', 30, NOW).slice(0, 25), generateMatches('derby-day', 25, NOW));
});

test('only generatedAt depends on the clock', () => {
  const [x] = generateMatches('clock', 1, new Date('2026-01-01T00:00:00Z'));
  const [y] = generateMatches('clock', 1, new Date('2026-06-01T00:00:00Z'));
  assert.notEqual(x.generatedAt, y.generatedAt);
  assert.deepEqual({ ...x, generatedAt: '' }, { ...y, generatedAt: '' });
});

test('possession sums to 100 and every count is a non-negative integer', () => {
  const nonNegInt = (v, what) => assert.ok(Number.isInteger(v) && v >= 0, `${what} = ${v}`);
  for (const m of SAMPLE) {
    assert.equal(m.home.possession + m.away.possession, 100, m.matchId);
    for (const side of [m.home, m.away]) {
      assert.ok(side.possession >= 25 && side.possession <= 75, `possession ${side.possession}`);
      for (const f of ['goals', 'shots', 'shotsOnTarget', 'corners', 'fouls', 'yellowCards', 'redCards', 'leaguePosition', 'eloRating']) nonNegInt(side[f], f);
      assert.ok(side.shots >= side.shotsOnTarget, 'shots >= shots on target');
      assert.ok(side.shotsOnTarget >= side.goals, 'shots on target >= goals');
      assert.ok(side.yellowCards <= side.fouls, 'yellow cards <= fouls');
      assert.ok(side.redCards <= 2);
      assert.ok(side.leaguePosition >= 1 && side.leaguePosition <= 20);
      assert.ok(side.marketValueEurM > 0);
      assert.equal(side.form.length, 5);
      assert.ok(side.form.every((r) => r === 'W' || r === 'D' || r === 'L'));
    }
  }
});

test('score, total goals and result agree; the two teams differ', () => {
  for (const m of SAMPLE) {
    assert.notEqual(m.home.name, m.away.name);
    assert.deepEqual(m.score, { home: m.home.goals, away: m.away.goals });
    assert.equal(m.totalGoals, m.home.goals + m.away.goals);
    const expected = m.home.goals > m.away.goals ? 'HOME_WIN' : m.home.goals < m.away.goals ? 'AWAY_WIN' : 'DRAW';
    assert.equal(m.result, expected);
    assert.equal(m.status, 'FULL_TIME');
  }
});

test('attendance is positive and never above the home stadium capacity', () => {
  let full = 0;
  for (const m of SAMPLE) {
    const home = CLUBS.find((c) => c.name === m.home.name);
    assert.ok(home, `${m.home.name} is a club of the reference data`);
    assert.equal(m.stadium.name, home.stadium);
    assert.equal(m.stadium.capacity, home.capacity);
    assert.ok(Number.isInteger(m.attendance) && m.attendance > 0, `attendance ${m.attendance}`);
    assert.ok(m.attendance <= m.stadium.capacity, `${m.attendance} > ${m.stadium.capacity} at ${m.stadium.name}`);
    if (m.attendance === m.stadium.capacity) full++;
  }
  assert.ok(full > 0, 'some matches sell out');
});

test('match ids are UUIDs and unique; kickoffs fall in the 2025/26 season', () => {
  const ids = new Set(SAMPLE.map((m) => m.matchId));
  assert.equal(ids.size, SAMPLE.length);
  for (const m of SAMPLE) {
    assert.match(m.matchId, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const t = Date.parse(m.kickoff);
    assert.ok(t >= Date.parse('2025-08-15T00:00:00Z') && t < Date.parse('2026-06-01T00:00:00Z'), m.kickoff);
    assert.equal(m.season, '2025/26');
  }
});

test('weather is plausible: snow only near freezing, humidity and wind in range', () => {
  for (const m of SAMPLE) {
    const w = m.weather;
    assert.ok(WEATHER_CONDITIONS.includes(w.condition));
    if (w.condition === 'snow') assert.ok(w.temperatureC <= 1, `snow at ${w.temperatureC} °C`);
    assert.ok(w.temperatureC > -20 && w.temperatureC < 45);
    assert.ok(w.humidityPct >= 0 && w.humidityPct <= 100);
    assert.ok(w.windKph >= 0 && w.windKph <= 120);
  }
});

test('domestic matches have a referee from that country, European ones a neutral referee', () => {
  for (const m of SAMPLE) {
    if (m.competition === 'UEFA Champions League') {
      assert.notEqual(m.home.country, m.away.country);
      assert.notEqual(m.referee.nationality, m.home.country);
      assert.notEqual(m.referee.nationality, m.away.country);
    } else {
      assert.equal(m.home.country, m.away.country);
      assert.equal(m.referee.nationality, m.home.country);
    }
  }
});

test('odds are decimal odds above 1 whose implied probabilities carry the margin', () => {
  for (const m of SAMPLE) {
    const { homeWin, draw, awayWin, marginPct } = m.odds;
    for (const o of [homeWin, draw, awayWin]) assert.ok(o > 1, `odds ${o}`);
    const overround = 1 / homeWin + 1 / draw + 1 / awayWin;
    assert.ok(Math.abs(overround - (1 + marginPct / 100)) < 0.02, `overround ${overround}`);
  }
  const strongHome = matchOdds(2050, 1550);
  const strongAway = matchOdds(1550, 2050);
  assert.ok(strongHome.homeWin < strongHome.awayWin);
  assert.ok(strongAway.homeWin > strongAway.awayWin);
  // Home advantage: equal ratings favour the home side.
  const even = matchOdds(1800, 1800);
  assert.ok(even.homeWin < even.awayWin);
});

test('rivalry levels: classic derbies in either order, strong league pairs medium, the rest low', () => {
  /** @param {string} n */
  const club = (n) => {
    const c = CLUBS.find((x) => x.name === n);
    assert.ok(c, `${n} is a club of the reference data`);
    return c;
  };
  assert.equal(rivalryLevel(club('Real Madrid'), club('FC Barcelona')), 'very_high');
  assert.equal(rivalryLevel(club('FC Barcelona'), club('Real Madrid')), 'very_high');
  assert.equal(rivalryLevel(club('Celtic'), club('Rangers')), 'very_high');
  assert.equal(rivalryLevel(club('Liverpool'), club('Everton')), 'high');
  assert.equal(rivalryLevel(club('Inter'), club('Juventus')), 'high');
  assert.equal(rivalryLevel(club('Arsenal'), club('Manchester City')), 'medium');
  assert.equal(rivalryLevel(club('Everton'), club('Sevilla')), 'low');
  for (const m of SAMPLE) assert.ok(RIVALRY_LEVELS.includes(m.rivalry), m.rivalry);
});

test('the generator produces every rivalry level and every route, and quiet matches too', () => {
  const levels = new Set(SAMPLE.map((m) => m.rivalry));
  assert.deepEqual([...levels].sort(), [...RIVALRY_LEVELS].sort());
  const routes = SAMPLE.map((m) => routeMatch(m).join('+'));
  for (const t of [training, betting, social]) {
    const share = SAMPLE.filter((m) => routeMatch(m).includes(t)).length / SAMPLE.length;
    assert.ok(share > 0.15 && share < 0.85, `${t} gets ${share}`);
  }
  assert.ok(routes.includes(live), 'some matches go to live_football_events only');
  assert.ok(routes.includes([live, training, betting, social].join('+')), 'some matches go everywhere');
  const sv = SAMPLE.map((m) => m.expectedSocialVolume);
  assert.ok(sv.every((v) => Number.isInteger(v) && v > 0));
});

test('every match goes to live_football_events, first', () => {
  assert.deepEqual(routeMatch(matchWith(quiet)), [live]);
  for (const m of SAMPLE) assert.equal(routeMatch(m)[0], live);
});

test('more than 2 goals also goes to ml_training_data; 2 does not', () => {
  assert.deepEqual(routeMatch(matchWith({ ...quiet, totalGoals: 2 })), [live]);
  assert.deepEqual(routeMatch(matchWith({ ...quiet, totalGoals: 3 })), [live, training]);
  assert.deepEqual(routeMatch(matchWith({ ...quiet, totalGoals: 7 })), [live, training]);
  assert.deepEqual(routeMatch(matchWith({ ...quiet, totalGoals: 0 })), [live]);
});

test('high and very_high rivalry also go to betting_analysis; low and medium do not', () => {
  assert.deepEqual(routeMatch(matchWith({ ...quiet, rivalry: 'low' })), [live]);
  assert.deepEqual(routeMatch(matchWith({ ...quiet, rivalry: 'medium' })), [live]);
  assert.deepEqual(routeMatch(matchWith({ ...quiet, rivalry: 'high' })), [live, betting]);
  assert.deepEqual(routeMatch(matchWith({ ...quiet, rivalry: 'very_high' })), [live, betting]);
});

test(`expected social volume of ${HIGH_SOCIAL_VOLUME} or more also goes to social_media_triggers`, () => {
  assert.equal(HIGH_SOCIAL_VOLUME, 250_000);
  assert.deepEqual(routeMatch(matchWith({ ...quiet, expectedSocialVolume: HIGH_SOCIAL_VOLUME - 1 })), [live]);
  assert.deepEqual(routeMatch(matchWith({ ...quiet, expectedSocialVolume: HIGH_SOCIAL_VOLUME })), [live, social]);
  assert.deepEqual(routeMatch(matchWith({ ...quiet, expectedSocialVolume: 5_000_000 })), [live, social]);
});

test('the rules combine independently: all eight combinations', () => {
  for (const goals of [1, 4]) {
    for (const rivalry of ['medium', 'very_high']) {
      for (const volume of [1000, 900_000]) {
        /** @type {string[]} */
        const expected = [live];
        if (goals > 2) expected.push(training);
        if (rivalry === 'very_high') expected.push(betting);
        if (volume >= HIGH_SOCIAL_VOLUME) expected.push(social);
        const got = routeMatch(matchWith({ totalGoals: goals, rivalry, expectedSocialVolume: volume }));
        assert.deepEqual(got, expected, `goals ${goals}, rivalry ${rivalry}, volume ${volume}`);
      }
    }
  }
});

test('routeMatches groups matches per topic in order, and only topics that get a match appear', () => {
  const a = matchWith({ matchId: 'a', ...quiet });
  const b = matchWith({ matchId: 'b', totalGoals: 5, rivalry: 'high', expectedSocialVolume: 10 });
  const c = matchWith({ matchId: 'c', totalGoals: 3, rivalry: 'low', expectedSocialVolume: 10 });
  const routed = routeMatches([a, b, c]);
  const ids = Object.fromEntries([...routed].map(([t, ms]) => [t, ms.map((m) => m.matchId)]));
  assert.deepEqual(ids, { [live]: ['a', 'b', 'c'], [training]: ['b', 'c'], [betting]: ['b'] });
  assert.equal(routed.has(social), false);

  // Per-topic counts of a generated batch equal the per-match routes added up.
  const batch = generateMatches('batch', 200, NOW);
  const counts = {};
  for (const m of batch) for (const t of routeMatch(m)) counts[t] = (counts[t] ?? 0) + 1;
  assert.deepEqual(Object.fromEntries([...routeMatches(batch)].map(([t, ms]) => [t, ms.length])), counts);
});

test('count and seed come from jobData, then the app options; the run id seeds by default', () => {
  assert.deepEqual(footballParams({}, {}, 'run-1'), { count: 1, seed: 'run-1' });
  assert.deepEqual(footballParams({ count: 4, seed: 7 }, { count: 2, seed: 'x' }, 'run-1'), { count: 4, seed: 7 });
  assert.deepEqual(footballParams({}, { count: 2, seed: 'x' }, 'run-1'), { count: 2, seed: 'x' });
});

test('a bad count or seed is a permanent error (no retries)', () => {
  for (const count of [0, -1, 1.5, '3', 10_001, true]) {
    assert.throws(() => footballParams({ count }, {}, 'r'), (err) => err instanceof PermanentError && /count must be an integer/.test(err.message), `count ${count}`);
  }
  for (const seed of [{}, [1], true]) {
    assert.throws(() => footballParams({ seed }, {}, 'r'), (err) => err instanceof PermanentError && /seed must be/.test(err.message));
  }
});

function fakeContext(jobData, runId = 'run-abc') {
  const calls = [];
  const sent = [];
  const published = {};
  const ctx = {
    runId,
    jobId: 'job-1',
    appName: 'football',
    attempt: 1,
    jobData,
    options: {},
    logger: createLogger('test', 'fatal'),
    producer: {
      async send(topic, messages) {
        calls.push(`send ${topic}`);
        sent.push(...messages.map((m) => ({ topic, ...m })));
        return messages.map(() => ({ topic, partition: 0, offset: '0' }));
      },
      async disconnect() {},
    },
    async ensureTopic(topic) {
      calls.push(`ensure ${topic}`);
    },
    async partitionCount() {
      return 12;
    },
    published(topic, n = 1) {
      published[topic] = (published[topic] ?? 0) + n;
    },
  };
  return { ctx, calls, sent, published };
}

test('the handler publishes each match to its routed topics, keyed by match id, and counts them per topic', async () => {
  const { ctx, calls, sent, published } = fakeContext({ count: 50, seed: 'handler' });
  await demoFootball(ctx);
  const expected = routeMatches(generateMatches('handler', 50, NOW));
  assert.deepEqual(published, Object.fromEntries([...expected].map(([t, ms]) => [t, ms.length])));
  for (const [topic, ms] of expected) {
    const got = sent.filter((s) => s.topic === topic);
    assert.deepEqual(got.map((s) => s.key), ms.map((m) => m.matchId));
    assert.deepEqual(got.map((s) => ({ ...s.value, generatedAt: '' })), ms.map((m) => ({ ...m, generatedAt: '' })));
    assert.ok(calls.indexOf(`ensure ${topic}`) >= 0 && calls.indexOf(`ensure ${topic}`) < calls.indexOf(`send ${topic}`), `${topic} is created before it is written`);
  }
  assert.deepEqual(sent[0].headers, { 'pipewright-run-id': 'run-abc', 'pipewright-job-id': 'job-1', 'pipewright-app': 'football' });
});

test('without a seed, a retried attempt of the same run publishes the same matches', async () => {
  const first = fakeContext({ count: 3 }, 'run-same');
  const retry = fakeContext({ count: 3 }, 'run-same');
  const other = fakeContext({ count: 3 }, 'run-other');
  await demoFootball(first.ctx);
  await demoFootball(retry.ctx);
  await demoFootball(other.ctx);
  const keys = (x) => x.sent.filter((s) => s.topic === live).map((s) => s.key);
  assert.equal(keys(first).length, 3);
  assert.deepEqual(keys(retry), keys(first));
  assert.notDeepEqual(keys(other), keys(first));
});

test('demo.football is a built-in handler and the default registry has a football app using it', async () => {
  assert.equal(typeof BUILT_IN_HANDLERS['demo.football'], 'function');
  const file = join(import.meta.dirname, '..', '..', '..', 'packages', 'contracts', 'apps.default.json');
  const reg = parseRegistry(readFileSync(file, 'utf8'), file);
  const football = reg.get('football');
  assert.ok(football, 'a football app');
  assert.equal(football.handler, 'demo.football');
  const { ctx, published } = fakeContext({ seed: 1 });
  await football.run(ctx);
  assert.equal(published[live], 1);
});

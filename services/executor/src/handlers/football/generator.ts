// demo.football's generator: full-time match records drawn from a seeded random source and the
// reference data. Pure: the same seed (and `now`) always gives the same records.
import { createRng, type Rng } from '@pipewright/contracts';
import type { FormResult, MatchRecord, TeamStats } from './records';
import {
  CLUBS,
  EUROPEAN_CUP,
  KICKOFF_SLOTS_UTC,
  MONTHLY_TEMPERATURE_C,
  NATIONAL_CUPS,
  REFEREES,
  RIVALRIES,
  SEASON,
  WARMER_COUNTRIES,
  rivalryLevel,
  type Club,
  type RivalryLevel,
  type WeatherCondition,
} from './reference-data';

const clamp = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));
const round = (v: number, digits: number) => Math.round(v * 10 ** digits) / 10 ** digits;

function matchId(rng: Rng): string {
  const hex = Array.from({ length: 32 }, () => rng.int(0, 15).toString(16));
  hex[12] = '4';
  hex[16] = ((rng.int(0, 15) & 0x3) | 0x8).toString(16);
  const s = hex.join('');
  return `${s.slice(0, 8)}-${s.slice(8, 12)}-${s.slice(12, 16)}-${s.slice(16, 20)}-${s.slice(20)}`;
}

/** A classic rivalry 30 % of the time, a domestic match 50 %, a European night 20 %. */
function pickFixture(rng: Rng): [Club, Club] {
  const byName = (n: string) => CLUBS.find((c) => c.name === n)!;
  const roll = rng.next();
  let a: Club;
  let b: Club;
  if (roll < 0.3) {
    const [x, y] = rng.pick(RIVALRIES);
    [a, b] = [byName(x), byName(y)];
  } else if (roll < 0.8) {
    a = rng.pick(CLUBS);
    const sameLeague = CLUBS.filter((c) => c !== a && c.league === a.league);
    b = rng.pick(sameLeague.length ? sameLeague : CLUBS.filter((c) => c !== a && c.country === a.country));
  } else {
    a = rng.pick(CLUBS);
    b = rng.pick(CLUBS.filter((c) => c.country !== a.country));
  }
  return rng.chance(0.5) ? [a, b] : [b, a];
}

function form(rng: Rng, rating: number): FormResult[] {
  const pWin = clamp((rating - 1550) / 800, 0.15, 0.7);
  const pDraw = 0.25;
  return Array.from({ length: 5 }, () => {
    const r = rng.next();
    return r < pWin ? 'W' : r < pWin + pDraw ? 'D' : 'L';
  });
}

/** Pre-match probabilities from the rating gap (home advantage included), then decimal odds with a margin. */
export function matchOdds(homeRating: number, awayRating: number, marginPct = 6): MatchRecord['odds'] {
  const expected = 1 / (1 + 10 ** (-(homeRating + 65 - awayRating) / 400));
  const pDraw = 0.3 - 0.18 * Math.abs(2 * expected - 1);
  const raw = [Math.max(0.03, expected - pDraw / 2), pDraw, Math.max(0.03, 1 - expected - pDraw / 2)];
  const sum = raw[0] + raw[1] + raw[2];
  const [h, d, a] = raw.map((p) => Math.max(1.01, round(1 / ((p / sum) * (1 + marginPct / 100)), 2)));
  return { homeWin: h, draw: d, awayWin: a, marginPct };
}

const RIVALRY_HEAT: Record<RivalryLevel, number> = { low: 1, medium: 1.15, high: 1.35, very_high: 1.6 };
const RIVALRY_BUZZ: Record<RivalryLevel, number> = { low: 1, medium: 1.5, high: 2.5, very_high: 4 };

function weather(rng: Rng, kickoff: Date, country: string): MatchRecord['weather'] {
  const month = kickoff.getUTCMonth();
  const temperatureC = round(MONTHLY_TEMPERATURE_C[month] + (WARMER_COUNTRIES[country] ?? 0) + rng.normal() * 3, 1);
  const wet = month >= 9 || month <= 2 ? 0.45 : 0.25;
  const r = rng.next();
  let condition: WeatherCondition;
  if (temperatureC <= 1 && r < 0.25) condition = 'snow';
  else if (r < wet * 0.7) condition = 'light_rain';
  else if (r < wet) condition = 'heavy_rain';
  else condition = rng.pick(['clear', 'clear', 'partly_cloudy', 'overcast', 'windy', 'fog'] as const);
  const windKph = condition === 'windy' ? rng.int(35, 65) : rng.int(0, 30);
  const humidityPct = condition.includes('rain') || condition === 'fog' || condition === 'snow' ? rng.int(80, 99) : rng.int(40, 85);
  return { condition, temperatureC, windKph, humidityPct };
}

/** One full-time match record drawn from rng. */
export function generateMatch(rng: Rng, now: Date = new Date()): MatchRecord {
  const id = matchId(rng);
  const [h, a] = pickFixture(rng);
  const rivalry = rivalryLevel(h, a);
  const competition = h.league === a.league ? h.league : h.country === a.country ? NATIONAL_CUPS[h.country] : EUROPEAN_CUP;
  const slot = rng.pick(KICKOFF_SLOTS_UTC);
  const kickoff = new Date(SEASON.start + rng.int(0, SEASON.days) * 86_400_000 + (slot[0] * 60 + slot[1]) * 60_000);

  const odds = matchOdds(h.rating, a.rating);
  const gap = (h.rating + 65 - a.rating) / 400;
  const goalsHome = rng.poisson(clamp(1.45 * Math.exp(0.9 * gap), 0.25, 4));
  const goalsAway = rng.poisson(clamp(1.15 * Math.exp(-0.9 * gap), 0.2, 4));

  const homePossession = Math.round(clamp(52 + 12 * gap + rng.normal() * 5, 25, 75));
  const heat = RIVALRY_HEAT[rivalry];
  const side = (c: Club, goals: number, possession: number): TeamStats => {
    const shotsOnTarget = goals + rng.poisson(2 + possession / 25);
    const shots = shotsOnTarget + rng.poisson(4 + possession / 12);
    const fouls = rng.poisson(10.5 * heat * (1.15 - possession / 200));
    const yellowCards = Math.min(fouls, rng.poisson(1.8 * heat));
    const redCards = rng.chance(0.04 * heat) ? (rng.chance(0.1) ? 2 : 1) : 0;
    return {
      name: c.name,
      shortName: c.shortName,
      country: c.country,
      goals,
      shots,
      shotsOnTarget,
      possession,
      corners: rng.poisson(2.5 + possession / 20),
      fouls,
      yellowCards,
      redCards,
      form: form(rng, c.rating),
      leaguePosition: clamp(c.position + rng.int(-2, 2), 1, 20),
      eloRating: Math.round(c.rating + rng.normal() * 15),
      marketValueEurM: round(c.squadValueEurM * (0.95 + rng.next() * 0.1), 1),
    };
  };
  const home = side(h, goalsHome, homePossession);
  const away = side(a, goalsAway, 100 - homePossession);

  const w = weather(rng, kickoff, h.country);
  const popularity = clamp((h.followersM + a.followersM) / 300, 0, 1);
  const badWeather = w.condition === 'heavy_rain' || w.condition === 'snow' ? 0.07 : 0;
  const fill = clamp(0.7 + 0.18 * popularity + (0.06 * (RIVALRY_HEAT[rivalry] - 1)) / 0.6 + rng.normal() * 0.06 - badWeather, 0.35, 1);
  const attendance = Math.min(h.capacity, Math.floor(h.capacity * fill));

  const referees = competition === EUROPEAN_CUP ? REFEREES.filter((r) => r.nationality !== h.country && r.nationality !== a.country) : REFEREES.filter((r) => r.nationality === h.country);
  const referee = rng.pick(referees.length ? referees : REFEREES);

  const totalGoals = goalsHome + goalsAway;
  const reds = home.redCards + away.redCards;
  const expectedSocialVolume = Math.round((h.followersM + a.followersM) * 1000 * RIVALRY_BUZZ[rivalry] * (1 + 0.15 * totalGoals) * (1 + 0.4 * reds) * (0.8 + 0.4 * rng.next()));

  return {
    matchId: id,
    competition,
    season: SEASON.name,
    kickoff: kickoff.toISOString(),
    status: 'FULL_TIME',
    home,
    away,
    score: { home: goalsHome, away: goalsAway },
    totalGoals,
    result: goalsHome > goalsAway ? 'HOME_WIN' : goalsHome < goalsAway ? 'AWAY_WIN' : 'DRAW',
    stadium: { name: h.stadium, city: h.city, country: h.country, capacity: h.capacity },
    attendance,
    referee: { ...referee },
    weather: w,
    odds,
    rivalry,
    expectedSocialVolume,
    generatedAt: now.toISOString(),
  };
}

/** `count` records from one seed: the same seed (and `now`) always gives the same records. */
export function generateMatches(seed: string | number, count: number, now: Date = new Date()): MatchRecord[] {
  const rng = createRng(seed);
  return Array.from({ length: count }, () => generateMatch(rng, now));
}

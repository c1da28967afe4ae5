// demo.football: generated football match records, routed to topics by rules on the data.
//
// The generator and the routing rules are pure functions (a seeded random source in, records
// out) so they can be tested without Kafka; the handler at the bottom only wires them to the
// run context.
import { PermanentError, type Handler } from './handlers';

// ---------------------------------------------------------------------------------------------
// Topics and routing

export const FOOTBALL_TOPICS = {
  live: 'live_football_events',
  training: 'ml_training_data',
  betting: 'betting_analysis',
  social: 'social_media_triggers',
} as const;

/** A match with more than this many goals in total also goes to ml_training_data. */
export const ML_TRAINING_MIN_GOALS_EXCLUSIVE = 2;

/** Rivalry levels that also send a match to betting_analysis. */
export const BETTING_RIVALRIES: readonly RivalryLevel[] = ['high', 'very_high'];

/**
 * "High" expected social volume: at least this many social-media posts expected about the
 * match (during the match and the hour after it). Such matches also go to social_media_triggers.
 */
export const HIGH_SOCIAL_VOLUME = 250_000;

export const RIVALRY_LEVELS = ['low', 'medium', 'high', 'very_high'] as const;
export type RivalryLevel = (typeof RIVALRY_LEVELS)[number];

/** The topics one match goes to, live_football_events first. */
export function routeMatch(m: Pick<MatchRecord, 'totalGoals' | 'rivalry' | 'expectedSocialVolume'>): string[] {
  const topics: string[] = [FOOTBALL_TOPICS.live];
  if (m.totalGoals > ML_TRAINING_MIN_GOALS_EXCLUSIVE) topics.push(FOOTBALL_TOPICS.training);
  if (BETTING_RIVALRIES.includes(m.rivalry)) topics.push(FOOTBALL_TOPICS.betting);
  if (m.expectedSocialVolume >= HIGH_SOCIAL_VOLUME) topics.push(FOOTBALL_TOPICS.social);
  return topics;
}

/** Groups matches by target topic, keeping their order; topics no match goes to are absent. */
export function routeMatches<T extends MatchRecord>(matches: readonly T[]): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const m of matches) {
    for (const topic of routeMatch(m)) {
      const list = out.get(topic);
      if (list) list.push(m);
      else out.set(topic, [m]);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Seeded random source

export interface Rng {
  /** Uniform in [0, 1). */
  next(): number;
  /** Integer in [min, max]. */
  int(min: number, max: number): number;
  pick<T>(items: readonly T[]): T;
  chance(p: number): boolean;
  /** Standard normal. */
  normal(): number;
  poisson(lambda: number): number;
}

/** FNV-1a of the seed's text, so strings and numbers both seed the generator. */
export function seedHash(seed: string | number): number {
  let h = 0x811c9dc5;
  for (const ch of String(seed)) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

/** mulberry32: small, fast and good enough for demo data; identical seeds give identical streams. */
export function createRng(seed: string | number): Rng {
  let a = seedHash(seed);
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng: Rng = {
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
    pick: (items) => items[Math.floor(next() * items.length)],
    chance: (p) => next() < p,
    normal: () => {
      const u = 1 - next();
      const v = next();
      return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
    },
    poisson: (lambda) => {
      const limit = Math.exp(-lambda);
      let k = 0;
      let p = next();
      while (p > limit) {
        k++;
        p *= next();
      }
      return k;
    },
  };
  return rng;
}

// ---------------------------------------------------------------------------------------------
// Reference data

interface Club {
  name: string;
  shortName: string;
  city: string;
  country: string;
  league: string;
  stadium: string;
  capacity: number;
  /** Elo-style strength. */
  rating: number;
  /** Typical league position. */
  position: number;
  /** Squad market value, millions of euros. */
  squadValueEurM: number;
  /** Social-media followers, millions. */
  followersM: number;
}

const club = (name: string, shortName: string, city: string, country: string, league: string, stadium: string, capacity: number, rating: number, position: number, squadValueEurM: number, followersM: number): Club =>
  ({ name, shortName, city, country, league, stadium, capacity, rating, position, squadValueEurM, followersM });

export const CLUBS: readonly Club[] = [
  club('Arsenal', 'ARS', 'London', 'England', 'Premier League', 'Emirates Stadium', 60704, 2010, 2, 1150, 60),
  club('Tottenham Hotspur', 'TOT', 'London', 'England', 'Premier League', 'Tottenham Hotspur Stadium', 62850, 1860, 9, 850, 35),
  club('Chelsea', 'CHE', 'London', 'England', 'Premier League', 'Stamford Bridge', 40343, 1900, 5, 1000, 90),
  club('Liverpool', 'LIV', 'Liverpool', 'England', 'Premier League', 'Anfield', 61276, 2020, 1, 1050, 110),
  club('Everton', 'EVE', 'Liverpool', 'England', 'Premier League', 'Hill Dickinson Stadium', 52888, 1720, 13, 300, 10),
  club('Manchester City', 'MCI', 'Manchester', 'England', 'Premier League', 'Etihad Stadium', 53400, 2030, 3, 1250, 100),
  club('Manchester United', 'MUN', 'Manchester', 'England', 'Premier League', 'Old Trafford', 74197, 1850, 8, 750, 200),
  club('Real Madrid', 'RMA', 'Madrid', 'Spain', 'La Liga', 'Santiago Bernabéu', 83186, 2050, 1, 1350, 420),
  club('Atlético Madrid', 'ATM', 'Madrid', 'Spain', 'La Liga', 'Riyadh Air Metropolitano', 70460, 1900, 3, 500, 40),
  club('FC Barcelona', 'BAR', 'Barcelona', 'Spain', 'La Liga', 'Spotify Camp Nou', 62000, 2030, 2, 1000, 400),
  club('Sevilla', 'SEV', 'Seville', 'Spain', 'La Liga', 'Ramón Sánchez-Pizjuán', 43883, 1700, 12, 200, 12),
  club('Real Betis', 'BET', 'Seville', 'Spain', 'La Liga', 'Benito Villamarín', 60721, 1760, 6, 250, 10),
  club('Bayern München', 'FCB', 'Munich', 'Germany', 'Bundesliga', 'Allianz Arena', 75024, 2010, 1, 950, 150),
  club('Borussia Dortmund', 'BVB', 'Dortmund', 'Germany', 'Bundesliga', 'Signal Iduna Park', 81365, 1880, 4, 450, 50),
  club('Schalke 04', 'S04', 'Gelsenkirchen', 'Germany', '2. Bundesliga', 'Veltins-Arena', 62271, 1560, 9, 50, 8),
  club('Bayer Leverkusen', 'B04', 'Leverkusen', 'Germany', 'Bundesliga', 'BayArena', 30210, 1900, 2, 600, 10),
  club('Inter', 'INT', 'Milan', 'Italy', 'Serie A', 'San Siro', 75817, 1970, 1, 650, 70),
  club('AC Milan', 'MIL', 'Milan', 'Italy', 'Serie A', 'San Siro', 75817, 1860, 4, 550, 80),
  club('Juventus', 'JUV', 'Turin', 'Italy', 'Serie A', 'Allianz Stadium', 41507, 1870, 3, 600, 120),
  club('AS Roma', 'ROM', 'Rome', 'Italy', 'Serie A', 'Stadio Olimpico', 70634, 1800, 6, 400, 30),
  club('Lazio', 'LAZ', 'Rome', 'Italy', 'Serie A', 'Stadio Olimpico', 70634, 1770, 7, 300, 10),
  club('Paris Saint-Germain', 'PSG', 'Paris', 'France', 'Ligue 1', 'Parc des Princes', 47929, 2000, 1, 1000, 200),
  club('Olympique de Marseille', 'OM', 'Marseille', 'France', 'Ligue 1', 'Orange Vélodrome', 67394, 1780, 3, 300, 20),
  club('Celtic', 'CEL', 'Glasgow', 'Scotland', 'Scottish Premiership', 'Celtic Park', 60411, 1730, 1, 120, 12),
  club('Rangers', 'RAN', 'Glasgow', 'Scotland', 'Scottish Premiership', 'Ibrox Stadium', 50817, 1700, 2, 100, 10),
  club('Benfica', 'SLB', 'Lisbon', 'Portugal', 'Primeira Liga', 'Estádio da Luz', 64642, 1830, 2, 350, 25),
  club('Sporting CP', 'SCP', 'Lisbon', 'Portugal', 'Primeira Liga', 'Estádio José Alvalade', 50095, 1820, 1, 400, 15),
  club('FC Porto', 'FCP', 'Porto', 'Portugal', 'Primeira Liga', 'Estádio do Dragão', 50033, 1800, 3, 300, 15),
  club('Ajax', 'AJA', 'Amsterdam', 'Netherlands', 'Eredivisie', 'Johan Cruijff ArenA', 55865, 1740, 2, 250, 20),
  club('Feyenoord', 'FEY', 'Rotterdam', 'Netherlands', 'Eredivisie', 'De Kuip', 47500, 1760, 3, 220, 8),
];

/** Derbies and classic rivalries; any other pairing is medium between two strong clubs of a league, low otherwise. */
const RIVALRIES: ReadonlyArray<readonly [string, string, RivalryLevel]> = [
  ['Real Madrid', 'FC Barcelona', 'very_high'],
  ['Celtic', 'Rangers', 'very_high'],
  ['Inter', 'AC Milan', 'very_high'],
  ['AS Roma', 'Lazio', 'very_high'],
  ['Borussia Dortmund', 'Schalke 04', 'very_high'],
  ['Sevilla', 'Real Betis', 'very_high'],
  ['Ajax', 'Feyenoord', 'very_high'],
  ['Benfica', 'Sporting CP', 'very_high'],
  ['Manchester United', 'Manchester City', 'high'],
  ['Manchester United', 'Liverpool', 'very_high'],
  ['Liverpool', 'Everton', 'high'],
  ['Arsenal', 'Tottenham Hotspur', 'very_high'],
  ['Arsenal', 'Chelsea', 'high'],
  ['Chelsea', 'Tottenham Hotspur', 'high'],
  ['Real Madrid', 'Atlético Madrid', 'high'],
  ['Bayern München', 'Borussia Dortmund', 'high'],
  ['Juventus', 'Inter', 'high'],
  ['Paris Saint-Germain', 'Olympique de Marseille', 'very_high'],
  ['FC Porto', 'Benfica', 'high'],
  ['Liverpool', 'Manchester City', 'medium'],
];

const STRONG_CLUB_RATING = 1850;

export function rivalryLevel(a: Club, b: Club): RivalryLevel {
  const known = RIVALRIES.find(([x, y]) => (x === a.name && y === b.name) || (x === b.name && y === a.name));
  if (known) return known[2];
  if (a.league === b.league && a.rating >= STRONG_CLUB_RATING && b.rating >= STRONG_CLUB_RATING) return 'medium';
  return 'low';
}

const EUROPEAN_CUP = 'UEFA Champions League';
/** Where two clubs of one country but different divisions meet. */
const NATIONAL_CUPS: Record<string, string> = {
  England: 'FA Cup',
  Spain: 'Copa del Rey',
  Germany: 'DFB-Pokal',
  Italy: 'Coppa Italia',
  France: 'Coupe de France',
  Scotland: 'Scottish Cup',
  Portugal: 'Taça de Portugal',
  Netherlands: 'KNVB Beker',
};

const REFEREES: ReadonlyArray<{ name: string; nationality: string }> = [
  { name: 'Michael Oliver', nationality: 'England' },
  { name: 'Anthony Taylor', nationality: 'England' },
  { name: 'Simon Hooper', nationality: 'England' },
  { name: 'Jesús Gil Manzano', nationality: 'Spain' },
  { name: 'José María Sánchez Martínez', nationality: 'Spain' },
  { name: 'Felix Zwayer', nationality: 'Germany' },
  { name: 'Daniel Siebert', nationality: 'Germany' },
  { name: 'Daniele Chiffi', nationality: 'Italy' },
  { name: 'Maurizio Mariani', nationality: 'Italy' },
  { name: 'Clément Turpin', nationality: 'France' },
  { name: 'François Letexier', nationality: 'France' },
  { name: 'Nick Walsh', nationality: 'Scotland' },
  { name: 'João Pinheiro', nationality: 'Portugal' },
  { name: 'Danny Makkelie', nationality: 'Netherlands' },
  { name: 'Szymon Marciniak', nationality: 'Poland' },
  { name: 'Slavko Vinčić', nationality: 'Slovenia' },
  { name: 'István Kovács', nationality: 'Romania' },
];

export const WEATHER_CONDITIONS = ['clear', 'partly_cloudy', 'overcast', 'light_rain', 'heavy_rain', 'windy', 'fog', 'snow'] as const;
export type WeatherCondition = (typeof WEATHER_CONDITIONS)[number];

/** Typical afternoon temperature (°C) per month, January first, for a north-western European city. */
const MONTHLY_TEMPERATURE_C = [4, 5, 9, 13, 17, 21, 23, 23, 19, 14, 8, 5];
const WARMER_COUNTRIES: Record<string, number> = { Spain: 6, Portugal: 5, Italy: 4, France: 2, Scotland: -2 };

/** The 2025/26 season: kickoffs fall on a match day between these dates, at one of the usual slots (UTC). */
const SEASON = { name: '2025/26', start: Date.UTC(2025, 7, 15), days: 282 };
const KICKOFF_SLOTS_UTC: ReadonlyArray<readonly [number, number]> = [[11, 30], [14, 0], [16, 30], [19, 0], [19, 45], [20, 0]];

// ---------------------------------------------------------------------------------------------
// Records

export type FormResult = 'W' | 'D' | 'L';

export interface TeamStats {
  name: string;
  shortName: string;
  country: string;
  goals: number;
  shots: number;
  shotsOnTarget: number;
  /** Percent of ball possession; home + away = 100. */
  possession: number;
  corners: number;
  fouls: number;
  yellowCards: number;
  redCards: number;
  /** Results of the last five matches before this one, oldest first. */
  form: FormResult[];
  leaguePosition: number;
  eloRating: number;
  marketValueEurM: number;
}

export interface MatchRecord {
  matchId: string;
  competition: string;
  season: string;
  kickoff: string;
  status: 'FULL_TIME';
  home: TeamStats;
  away: TeamStats;
  score: { home: number; away: number };
  totalGoals: number;
  result: 'HOME_WIN' | 'DRAW' | 'AWAY_WIN';
  stadium: { name: string; city: string; country: string; capacity: number };
  attendance: number;
  referee: { name: string; nationality: string };
  weather: { condition: WeatherCondition; temperatureC: number; windKph: number; humidityPct: number };
  /** Decimal pre-match odds, with the bookmaker's margin included. */
  odds: { homeWin: number; draw: number; awayWin: number; marginPct: number };
  rivalry: RivalryLevel;
  /** Social-media posts expected about the match; HIGH_SOCIAL_VOLUME and above count as high. */
  expectedSocialVolume: number;
  generatedAt: string;
}

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
  const fill = clamp(0.7 + 0.18 * popularity + 0.06 * (RIVALRY_HEAT[rivalry] - 1) / 0.6 + rng.normal() * 0.06 - badWeather, 0.35, 1);
  const attendance = Math.min(h.capacity, Math.floor(h.capacity * fill));

  const referees = competition === EUROPEAN_CUP
    ? REFEREES.filter((r) => r.nationality !== h.country && r.nationality !== a.country)
    : REFEREES.filter((r) => r.nationality === h.country);
  const referee = rng.pick(referees.length ? referees : REFEREES);

  const totalGoals = goalsHome + goalsAway;
  const reds = home.redCards + away.redCards;
  const expectedSocialVolume = Math.round(
    (h.followersM + a.followersM) * 1000 * RIVALRY_BUZZ[rivalry] * (1 + 0.15 * totalGoals) * (1 + 0.4 * reds) * (0.8 + 0.4 * rng.next()),
  );

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

// ---------------------------------------------------------------------------------------------
// Handler

export const MAX_MATCHES_PER_RUN = 10_000;

/** Reads count and seed from jobData (app options as defaults); bad values are permanent errors. */
export function footballParams(jobData: Record<string, unknown>, options: Record<string, unknown>, runId: string): { count: number; seed: string | number } {
  const count = jobData.count ?? options.count ?? 1;
  if (typeof count !== 'number' || !Number.isInteger(count) || count < 1 || count > MAX_MATCHES_PER_RUN) {
    throw new PermanentError(`demo.football: count must be an integer from 1 to ${MAX_MATCHES_PER_RUN}, got ${JSON.stringify(count)}`);
  }
  // Without a seed the run id seeds the generator, so a retried attempt publishes the same
  // matches (same match ids) again instead of new ones.
  const seed = jobData.seed ?? options.seed ?? runId;
  if (typeof seed !== 'string' && typeof seed !== 'number') {
    throw new PermanentError(`demo.football: seed must be a string or a number, got ${JSON.stringify(seed)}`);
  }
  return { count, seed };
}

export const demoFootball: Handler = async (ctx) => {
  const { count, seed } = footballParams(ctx.jobData, ctx.options, ctx.runId);
  const routed = routeMatches(generateMatches(seed, count));
  const headers = { 'pipewright-run-id': ctx.runId, 'pipewright-job-id': ctx.jobId, 'pipewright-app': ctx.appName };
  for (const [topic, matches] of routed) {
    await ctx.ensureTopic(topic);
    await ctx.producer.send(topic, matches.map((m) => ({ key: m.matchId, value: m, headers })));
    ctx.published(topic, matches.length);
  }
  ctx.logger.info({ count, perTopic: Object.fromEntries([...routed].map(([t, ms]) => [t, ms.length])) }, 'football matches published');
};

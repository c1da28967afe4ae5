// demo.football's reference data: clubs, rivalries, competitions, referees, weather and the
// season's calendar, from which the generator draws its matches.

export const RIVALRY_LEVELS = ['low', 'medium', 'high', 'very_high'] as const;
export type RivalryLevel = (typeof RIVALRY_LEVELS)[number];

export interface Club {
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

const club = (
  name: string,
  shortName: string,
  city: string,
  country: string,
  league: string,
  stadium: string,
  capacity: number,
  rating: number,
  position: number,
  squadValueEurM: number,
  followersM: number,
): Club => ({ name, shortName, city, country, league, stadium, capacity, rating, position, squadValueEurM, followersM });

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
export const RIVALRIES: ReadonlyArray<readonly [string, string, RivalryLevel]> = [
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

export const EUROPEAN_CUP = 'UEFA Champions League';
/** Where two clubs of one country but different divisions meet. */
export const NATIONAL_CUPS: Record<string, string> = {
  England: 'FA Cup',
  Spain: 'Copa del Rey',
  Germany: 'DFB-Pokal',
  Italy: 'Coppa Italia',
  France: 'Coupe de France',
  Scotland: 'Scottish Cup',
  Portugal: 'Taça de Portugal',
  Netherlands: 'KNVB Beker',
};

export const REFEREES: ReadonlyArray<{ name: string; nationality: string }> = [
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
export const MONTHLY_TEMPERATURE_C = [4, 5, 9, 13, 17, 21, 23, 23, 19, 14, 8, 5];
export const WARMER_COUNTRIES: Record<string, number> = { Spain: 6, Portugal: 5, Italy: 4, France: 2, Scotland: -2 };

/** The 2025/26 season: kickoffs fall on a match day between these dates, at one of the usual slots (UTC). */
export const SEASON = { name: '2025/26', start: Date.UTC(2025, 7, 15), days: 282 };
export const KICKOFF_SLOTS_UTC: ReadonlyArray<readonly [number, number]> = [
  [11, 30],
  [14, 0],
  [16, 30],
  [19, 0],
  [19, 45],
  [20, 0],
];

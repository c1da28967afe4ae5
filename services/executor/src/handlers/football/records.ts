// The shape of one generated demo.football match record, as published.
import type { RivalryLevel, WeatherCondition } from './reference-data';

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

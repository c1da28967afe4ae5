// demo.football's routing rules: which topics a match goes to, decided on the match's data.
import type { RivalryLevel } from './reference-data';
import type { MatchRecord } from './records';

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

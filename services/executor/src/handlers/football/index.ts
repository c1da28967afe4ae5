// demo.football: generated football match records, routed to topics by rules on the data.
//
// The generator (over the seeded random source of @pipewright/contracts) and the routing rules
// are pure functions (a seed in, records out) so they can be tested without Kafka; the handler
// only wires them to the run context.
//
//   reference-data.ts  clubs, rivalries, competitions, referees, weather, the season
//   records.ts         the shape of a published match record
//   generator.ts       match records from a seed
//   routing.ts         which topics a match goes to
//   handler.ts         the demo.football handler
export { createRng, seedHash, type Rng } from '@pipewright/contracts';
export { CLUBS, RIVALRY_LEVELS, WEATHER_CONDITIONS, rivalryLevel, type Club, type RivalryLevel, type WeatherCondition } from './reference-data';
export type { FormResult, MatchRecord, TeamStats } from './records';
export { generateMatch, generateMatches, matchOdds } from './generator';
export { BETTING_RIVALRIES, FOOTBALL_TOPICS, HIGH_SOCIAL_VOLUME, ML_TRAINING_MIN_GOALS_EXCLUSIVE, routeMatch, routeMatches } from './routing';
export { MAX_MATCHES_PER_RUN, demoFootball, footballParams } from './handler';

// demo.football lives in handlers/football/. This module keeps dist/football.js loadable for the
// cross-service tests that require it by that path.
export * from './handlers/football';

// The scheduler's tables. Parameterised SQL only; nothing else reads these tables. One named
// function per operation, in a file per part of the job's life: store-ingest.ts (storing
// requests), store-firing.ts (firing passes), store-status.ts (run status events), store-jobs.ts
// (the API's reads and control calls), store-housekeeping.ts (retention, refusals); this file
// holds what they share, and exports them all.

export * from './store-shared';
export * from './store-ingest';
export * from './store-firing';
export * from './store-status';
export * from './store-jobs';
export * from './store-housekeeping';

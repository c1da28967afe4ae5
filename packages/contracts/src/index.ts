export * from './topics';
export * from './job-request';
export * from './job-events';

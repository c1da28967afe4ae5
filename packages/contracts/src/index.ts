export * from './topics';
export * from './job-request';
export * from './job-events';
export * from './cron';
export * from './schedule';
export * from './apps';
export * from './orders';
export * from './stock-tasks';

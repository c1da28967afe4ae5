export * from './config';
export * from './logger';
export * from './kafka';
export * from './postgres';
export * from './grpc';
export * from './metrics';
export * from './telemetry';
export * from './service';

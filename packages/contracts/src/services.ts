// The services of pipewright, read from services.json (the one list the launcher, the tests,
// the charts and each service's default port come from).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ServiceInfo {
  name: string;
  /** Default gRPC port (GRPC_PORT). */
  grpcPort: number;
  /** Uses PostgreSQL (DATABASE_URL). */
  database: boolean;
  /** Fully-qualified gRPC service it serves. */
  grpcService: string;
  consumes: string[];
  produces: string[];
  /** Consumer groups it joins (its Kafka ACLs: scripts/lib/kafka-acls.mjs). */
  groups: string[];
  /** The topics each of its handlers writes (the executor). */
  handlerTopics?: Record<string, string[]>;
  /** Writes the topic of each kafka.publish app (the executor). */
  publishesForApps?: boolean;
  /** Describes every topic and consumer group and reads __consumer_offsets (the monitor). */
  readsClusterState?: boolean;
  /** Re-sends dead letters to the topics the other services consume (the monitor). */
  replaysDeadLetters?: boolean;
}

export const SERVICES: readonly ServiceInfo[] = (JSON.parse(readFileSync(join(__dirname, '..', 'services.json'), 'utf8')) as { services: ServiceInfo[] }).services;

export function service(name: string): ServiceInfo {
  const s = SERVICES.find((x) => x.name === name);
  if (!s) throw new Error(`no service named ${name} in packages/contracts/services.json`);
  return s;
}

// The parts of the local run (scripts/) that tests use directly.
import type { ChildProcess } from 'node:child_process';
import * as system from '../../../scripts/lib/system.mjs';
import * as proc from '../../../scripts/lib/proc.mjs';
import * as kafka from '../../../scripts/lib/kafka.mjs';
import * as otlp from '../../../scripts/lib/otlp-receiver.mjs';

/** The repository's root directory. */
export const ROOT: string = system.ROOT;

/** The names of the services the launcher (scripts/lib/system.mjs) starts, in its order. */
export const LAUNCHED_SERVICES: readonly string[] = system.SERVICES.map((s) => s.name);

/** A free TCP port on 127.0.0.1, never handed out twice by this process. */
export const freePort = (): Promise<number> => proc.freePort();

/** The directory holding Kafka's jars (fetched through Maven once). */
export const kafkaJars = (options: { log?: (message: string) => void } = {}): string => kafka.ensureKafkaJars(options);

export interface LocalKafka {
  brokers: string;
  port: number;
  controllerPort: number;
  child: ChildProcess;
  stop(): Promise<number | null>;
}

/**
 * A single-node Kafka broker of a test's own (to stop and start again); `port` and
 * `controllerPort` to restart it where it was, on the same `dataDir`.
 */
export function startKafka(options: { dataDir: string; logFile?: string; port?: number; controllerPort?: number }): Promise<LocalKafka> {
  return kafka.startKafka(options);
}

/** A span as the OTLP receiver keeps it. */
export interface ReceivedSpan {
  service?: string;
  name: string;
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  kind?: number;
  startTimeUnixNano?: string;
  endTimeUnixNano?: string;
  attributes?: Array<{ key: string; value: Record<string, unknown> }>;
  links?: Array<{ traceId: string; spanId: string; attributes?: unknown[] }>;
}

export interface OtlpReceiver {
  /** Where services export their traces (OTEL_EXPORTER_OTLP_ENDPOINT). */
  endpoint: string;
  /** Every span received as JSON so far. */
  spans: ReceivedSpan[];
  close(): Promise<void>;
}

/** An OTLP/HTTP trace receiver on a free port (scripts/lib/otlp-receiver.mjs). */
export const startOtlpReceiver = (): Promise<OtlpReceiver> => otlp.startOtlpReceiver();

// What every handler shares: the run context it is called with, its type, and PermanentError.
// A handler resolves on success, throws PermanentError when retrying cannot help, and throws
// anything else for a retry.
import type { Logger, MessageProducer } from '@pipewright/platform';

export class PermanentError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentError';
  }
}

export interface RunContext {
  runId: string;
  jobId: string;
  appName: string;
  attempt: number;
  jobData: Record<string, unknown>;
  options: Record<string, unknown>;
  producer: MessageProducer;
  /** Creates a topic the first time a handler writes to it. */
  ensureTopic(topic: string): Promise<void>;
  /** How many partitions a topic has (it must exist). */
  partitionCount(topic: string): Promise<number>;
  logger: Logger;
  /** Counts messages a handler published, per topic, for the executor's stats. */
  published(topic: string, n?: number): void;
}

export type Handler = (ctx: RunContext) => Promise<void>;

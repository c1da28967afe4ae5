// What the executor consumes: due runs on jobs.due, each executed by the runner (runner.ts).
import type { MessageConsumerSpec } from '@pipewright/platform';
import { TOPICS, decodeDueRun, type DueRun } from '@pipewright/contracts';
import type { Config } from './config';
import type { createRunner } from './runner';

export function dueRunConsumer(config: Config, execute: ReturnType<typeof createRunner>): MessageConsumerSpec<DueRun> {
  return {
    groupId: 'executor',
    topics: [TOPICS.jobsDue],
    dlqTopic: TOPICS.jobsDlq,
    decode: (msg) => decodeDueRun(msg.value),
    handle: execute,
    // Runs are independent: a partition's runs execute side by side, EXECUTOR_CONCURRENCY at
    // most; the claims, finishes and status events of the runs in flight go out together.
    maxInFlight: config.EXECUTOR_CONCURRENCY,
  };
}

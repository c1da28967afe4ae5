// The monitor's consumer groups of dead letters and errors, and the topics each reads, which a
// stack moves to the end of their topics before it starts the monitor (the run's stacks share
// one broker), so that the monitor indexes only what its test file sends.
import { TOPICS } from '@pipewright/contracts';

/** Every DLQ topic of pipewright. */
export const DLQ_TOPICS: readonly string[] = Object.values(TOPICS).filter((t) => /[.-]dlq$/.test(t));

export const MONITOR_GROUPS: ReadonlyArray<{ groupId: string; topic: string }> = [
  ...DLQ_TOPICS.map((topic) => ({ groupId: 'monitor.dead-letters', topic })),
  ...[TOPICS.jobsStatus, TOPICS.scrapingErrors, TOPICS.processingErrors].map((topic) => ({ groupId: 'monitor.errors', topic })),
];

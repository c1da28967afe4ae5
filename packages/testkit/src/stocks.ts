// What the market-data pipeline's tests and benchmark share: its progress topics and the
// consumer groups of its stages and of the monitor's progress consumer, which a stack moves to
// the end of their topics before it starts them (the run's stacks share one broker).
import { TOPICS } from '@pipewright/contracts';

/** The topics the monitor's progress consumer reads. */
export const PIPELINE_TOPICS: readonly string[] = [TOPICS.stockRuns, TOPICS.scrapingCompletion, TOPICS.scrapingErrors, TOPICS.processingCompletion, TOPICS.processingErrors];

/** The pipeline's consumer groups and the topics each reads. */
export const STOCK_GROUPS: ReadonlyArray<{ groupId: string; topic: string }> = [
  { groupId: 'stock-scraper', topic: TOPICS.stockScrapingTasks },
  { groupId: 'stock-processor', topic: TOPICS.stockProcessingTasks },
  ...PIPELINE_TOPICS.map((topic) => ({ groupId: 'monitor.pipeline', topic })),
];

// The pipeline's run progress in the monitor: the consumer of the run announcements and of the
// completion and error topics of both stages, and the gRPC methods that read it. main.ts calls
// startPipeline once and serves its handlers with the others.
import { DLQ_MAX_MESSAGE_BYTES, type Pool, type Service } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import type { monitorV1 } from '@pipewright/proto';
import { PIPELINE_TOPICS, decodePipelineEvent, handlePipelineEvents } from './consumer';
import { pipelineHandlers } from './grpc';
import { countRunningRuns } from './store';
import { PipelineFeed } from './watch';

export interface Pipeline {
  handlers: Partial<monitorV1.MonitorServer>;
  /** Runs not complete yet. */
  activeRuns(): Promise<number>;
}

export async function startPipeline(svc: Service<unknown>, pool: Pool): Promise<Pipeline> {
  const logger = svc.logger.child({ component: 'pipeline' });
  await svc.kafka().ensureTopics([...PIPELINE_TOPICS, { topic: TOPICS.stockProgressDlq, maxMessageBytes: DLQ_MAX_MESSAGE_BYTES }]);
  const feed = new PipelineFeed(pool, logger);
  svc.onStop('intake', 'pipeline watchers', async () => feed.close());
  await svc.consume({
    groupId: 'monitor.pipeline',
    topics: PIPELINE_TOPICS,
    dlqTopic: TOPICS.stockProgressDlq,
    decode: decodePipelineEvent,
    handleBatch: handlePipelineEvents({ pool, logger }),
    maxBatchSize: 2000,
  });
  return { handlers: pipelineHandlers({ pool, feed, logger }), activeRuns: () => countRunningRuns(pool) };
}

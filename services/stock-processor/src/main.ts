// stock-processor's wiring: settings, PostgreSQL (schema `stock`), its topics, the consumer of
// processing tasks and the gRPC server.
import { join } from 'node:path';
import { DLQ_MAX_MESSAGE_BYTES, runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS, decodeProcessingTask } from '@pipewright/contracts';
import { stockprocessorV1 } from '@pipewright/proto';
import { settings } from './config';
import { handleProcessingTasks } from './consumer';
import { stockProcessorHandlers } from './grpc';
import { ProcessorMetrics } from './metrics';

void runService('stock-processor', settings, async (svc) => {
  const { config, logger } = svc;
  const pool = await svc.postgres({
    url: config.DATABASE_URL,
    poolMax: config.DATABASE_POOL_MAX,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    schema: 'stock',
    migrationsDir: join(__dirname, '../migrations'),
  });
  await svc.kafka().ensureTopics([TOPICS.stockProcessingTasks, TOPICS.processingCompletion, TOPICS.processingErrors, { topic: TOPICS.stockProcessingDlq, maxMessageBytes: DLQ_MAX_MESSAGE_BYTES }]);
  const producer = await svc.producer();
  const metrics = new ProcessorMetrics(svc.registry);
  const consumer = await svc.consume({
    groupId: 'stock-processor',
    topics: [TOPICS.stockProcessingTasks],
    dlqTopic: TOPICS.stockProcessingDlq,
    decode: (msg) => decodeProcessingTask(msg.value),
    handleBatch: handleProcessingTasks({ pool, producer, metrics, logger, failureRate: config.STOCK_PROCESSING_FAILURE_RATE }),
    maxBatchSize: config.STOCK_PROCESSOR_BATCH,
  });
  await svc.serveGrpc([
    {
      name: 'pipewright.stockprocessor.v1.StockProcessor',
      definition: stockprocessorV1.StockProcessorService,
      implementation: withUnimplemented(
        stockprocessorV1.StockProcessorService,
        stockProcessorHandlers(pool, metrics, () => consumer.stats.sentToDlq, logger),
      ),
    },
  ]);
});

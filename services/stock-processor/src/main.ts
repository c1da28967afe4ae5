import { runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { stockprocessorV1 } from '@pipewright/proto';
import { settings } from './config';

// Processing is not built yet: its gRPC methods answer UNIMPLEMENTED.
void runService('stock-processor', settings, async (svc) => {
  await svc.postgres({ url: svc.config.DATABASE_URL, poolMax: svc.config.DATABASE_POOL_MAX, schema: 'stock' });
  await svc.kafka().ensureTopics([TOPICS.stockProcessingTasks, TOPICS.processingCompletion, TOPICS.processingErrors]);
  await svc.producer();
  await svc.serveGrpc(
    [{ name: 'pipewright.stockprocessor.v1.StockProcessor', definition: stockprocessorV1.StockProcessorService, implementation: withUnimplemented(stockprocessorV1.StockProcessorService, {}) }]
  );
});

// stock-processor's wiring, and nothing else: settings, PostgreSQL (schema `stock`), its
// topics, the producer and the gRPC server. Processing is not built yet: nothing is consumed,
// and every gRPC method answers UNIMPLEMENTED.
import { runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { stockprocessorV1 } from '@pipewright/proto';
import { settings } from './config';
import { stockProcessorHandlers } from './grpc';

void runService('stock-processor', settings, async (svc) => {
  await svc.postgres({ url: svc.config.DATABASE_URL, poolMax: svc.config.DATABASE_POOL_MAX, schema: 'stock' });
  await svc.kafka().ensureTopics([TOPICS.stockProcessingTasks, TOPICS.processingCompletion, TOPICS.processingErrors]);
  await svc.producer();
  await svc.serveGrpc([
    {
      name: 'pipewright.stockprocessor.v1.StockProcessor',
      definition: stockprocessorV1.StockProcessorService,
      implementation: withUnimplemented(stockprocessorV1.StockProcessorService, stockProcessorHandlers()),
    },
  ]);
});

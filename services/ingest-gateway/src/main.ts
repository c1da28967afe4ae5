import { runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { ingestV1 } from '@pipewright/proto';
import { settings } from './config';
import { gatewayHandlers } from './grpc';

void runService('ingest-gateway', settings, async (svc) => {
  await svc.kafka().ensureTopics([TOPICS.jobsIngest, TOPICS.orders, TOPICS.stockScrapingTasks]);
  const producer = await svc.producer();
  await svc.serveGrpc([
    {
      name: 'pipewright.ingest.v1.IngestGateway',
      definition: ingestV1.IngestGatewayService,
      implementation: withUnimplemented(ingestV1.IngestGatewayService, gatewayHandlers(svc.config, producer, svc.registry, svc.logger)),
    },
  ]);
});

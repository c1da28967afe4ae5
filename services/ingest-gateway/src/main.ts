import { avroCodec, runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS, orderSchema, type Order } from '@pipewright/contracts';
import { ingestV1 } from '@pipewright/proto';
import { settings } from './config';
import { gatewayHandlers } from './grpc';
import { checkDoorSecurity, startHttpDoor } from './http';

void runService('ingest-gateway', settings, async (svc) => {
  checkDoorSecurity(svc.config);
  await svc.kafka().ensureTopics([TOPICS.jobsIngest, TOPICS.orders, TOPICS.stockRuns, TOPICS.stockScrapingTasks]);
  const scrapingPartitions = await svc.kafka().partitionCount(TOPICS.stockScrapingTasks);
  const producer = await svc.producer();
  // With a schema registry, the Order schema is registered under orders-value at start-up.
  const orderCodec = await avroCodec<Order>({ schema: orderSchema, subject: `${TOPICS.orders}-value`, registryUrl: svc.config.SCHEMA_REGISTRY_URL, register: true });
  const own = {
    name: 'pipewright.ingest.v1.IngestGateway',
    definition: ingestV1.IngestGatewayService,
    implementation: withUnimplemented(ingestV1.IngestGatewayService, gatewayHandlers({ config: svc.config, producer, registry: svc.registry, logger: svc.logger, orderCodec, scrapingPartitions })),
  };
  await svc.serveGrpc([own]);
  if (svc.config.INGEST_HTTP) await startHttpDoor(svc, own, svc.logger);
});

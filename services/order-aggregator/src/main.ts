import { runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { ordersV1 } from '@pipewright/proto';
import { settings } from './config';

// The aggregation itself is not built yet: its gRPC methods answer UNIMPLEMENTED.
void runService('order-aggregator', settings, async (svc) => {
  await svc.postgres({ url: svc.config.DATABASE_URL, poolMax: svc.config.DATABASE_POOL_MAX, schema: 'orders' });
  await svc.kafka().ensureTopics([TOPICS.orders, TOPICS.ordersDlq]);
  await svc.producer();
  await svc.serveGrpc(
    [{ name: 'pipewright.orders.v1.OrderAggregator', definition: ordersV1.OrderAggregatorService, implementation: withUnimplemented(ordersV1.OrderAggregatorService, {}) }]
  );
});

// order-aggregator's wiring, and nothing else: settings, PostgreSQL (schema `orders`), its
// topics, the producer and the gRPC server. The aggregation is not built yet: nothing is
// consumed, and every gRPC method answers UNIMPLEMENTED.
import { runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { ordersV1 } from '@pipewright/proto';
import { settings } from './config';
import { orderAggregatorHandlers } from './grpc';

void runService('order-aggregator', settings, async (svc) => {
  await svc.postgres({ url: svc.config.DATABASE_URL, poolMax: svc.config.DATABASE_POOL_MAX, schema: 'orders' });
  await svc.kafka().ensureTopics([TOPICS.orders, TOPICS.ordersDlq]);
  await svc.producer();
  await svc.serveGrpc([
    { name: 'pipewright.orders.v1.OrderAggregator', definition: ordersV1.OrderAggregatorService, implementation: withUnimplemented(ordersV1.OrderAggregatorService, orderAggregatorHandlers()) },
  ]);
});

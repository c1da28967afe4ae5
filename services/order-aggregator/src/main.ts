// order-aggregator's wiring: settings, PostgreSQL (schema `orders`), the Avro codec, the
// consumer of `orders`, housekeeping and the gRPC server.
import { join } from 'node:path';
import { DLQ_MAX_MESSAGE_BYTES, avroCodec, runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS, olderOrderSchemas, orderSchema, type Order } from '@pipewright/contracts';
import { ordersV1 } from '@pipewright/proto';
import { settings } from './config';
import { handleOrders, resumeFromStore } from './consumer';
import { simulatedFailure } from './aggregate';
import { orderAggregatorHandlers } from './grpc';
import { OrderMetrics } from './metrics';
import { ChangeFeed } from './watch';
import { CLEANUP_BATCH, deleteExpiredOrderIds, deleteOldWindows, sendDeadLetters } from './store';
import { deadLetterSender } from './dead-letters';

void runService('order-aggregator', settings, async (svc) => {
  const { config, logger } = svc;
  const pool = await svc.postgres({
    url: config.DATABASE_URL,
    poolMax: config.DATABASE_POOL_MAX,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    schema: 'orders',
    migrationsDir: join(__dirname, '../migrations'),
  });
  await svc.kafka().ensureTopics([TOPICS.orders, { topic: TOPICS.ordersDlq, maxMessageBytes: DLQ_MAX_MESSAGE_BYTES }]);
  const codec = await avroCodec<Order>({ schema: orderSchema, olderSchemas: olderOrderSchemas, subject: `${TOPICS.orders}-value`, registryUrl: config.SCHEMA_REGISTRY_URL });
  const metrics = new OrderMetrics(svc.registry);
  const producer = await svc.producer();
  const sender = deadLetterSender(producer, metrics, logger);
  // Dead letters a process decided but did not get to send (it stopped, or Kafka refused) go
  // out from here, whichever replica now holds their partition.
  svc.every('dead letters left to send', 10_000, () => sendDeadLetters(pool, sender), 500);
  const feed = new ChangeFeed(pool, config.ORDERS_WATCH_INTERVAL, logger.child({ component: 'watch' }));
  svc.onStop('intake', 'aggregate watchers', () => feed.close());

  if (config.ORDERS_DEDUPE_WINDOW > 0) svc.every('expired order ids', 60_000, () => deleteExpiredOrderIds(pool, config.ORDERS_DEDUPE_WINDOW), CLEANUP_BATCH);
  if (config.ORDERS_WINDOWS.length) svc.every('old windows', 60_000, () => deleteOldWindows(pool, config.ORDERS_WINDOW_RETENTION), CLEANUP_BATCH);

  await svc.consume({
    groupId: 'order-aggregator',
    topics: [TOPICS.orders],
    dlqTopic: TOPICS.ordersDlq,
    decode: (msg) => msg,
    onAssignment: resumeFromStore(pool),
    handleBatch: handleOrders({ pool, codec, config, metrics, logger, step: simulatedFailure(config.ORDERS_FAILURE_RATE), sendDeadLetters: sender }),
    maxBatchSize: config.ORDERS_BATCH,
    partitionsConsumedConcurrently: 4,
  });
  await svc.serveGrpc([
    {
      name: 'pipewright.orders.v1.OrderAggregator',
      definition: ordersV1.OrderAggregatorService,
      implementation: withUnimplemented(ordersV1.OrderAggregatorService, orderAggregatorHandlers(pool, feed, config, logger)),
    },
  ]);
});

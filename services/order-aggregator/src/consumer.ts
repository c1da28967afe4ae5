// What the order-aggregator consumes goes here: Avro orders from `orders`, decoded with the
// schema in packages/contracts/avro/order.avsc, each fetched batch applied to the aggregates
// with the consumed offsets in one PostgreSQL transaction (through store.ts), failures retried
// and then forwarded to `orders-dlq` as the original bytes.
//
// Not built yet: the service does not consume anything today.

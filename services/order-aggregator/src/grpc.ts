// gRPC control and status of the aggregates, pipewright.orders.v1.OrderAggregator: GetAggregate,
// ListAggregates and GetStats go here, each calling domain functions and store.ts, never SQL.
//
// Not built yet: no method is implemented, so main.ts's withUnimplemented answers every call
// UNIMPLEMENTED.
import type { ordersV1 } from '@pipewright/proto';

export function orderAggregatorHandlers(): Partial<ordersV1.OrderAggregatorServer> {
  return {};
}

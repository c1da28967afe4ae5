// gRPC queries of the computed ratios, pipewright.stockprocessor.v1.StockProcessor: GetRatios,
// ListRatios and GetStats go here, each calling domain functions and store.ts, never SQL.
//
// Not built yet: no method is implemented, so main.ts's withUnimplemented answers every call
// UNIMPLEMENTED.
import type { stockprocessorV1 } from '@pipewright/proto';

export function stockProcessorHandlers(): Partial<stockprocessorV1.StockProcessorServer> {
  return {};
}

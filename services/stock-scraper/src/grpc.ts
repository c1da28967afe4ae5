// gRPC status of the scraper, pipewright.stockscraper.v1.StockScraper: GetStats goes here,
// calling domain functions, never SQL.
//
// Not built yet: no method is implemented, so main.ts's withUnimplemented answers every call
// UNIMPLEMENTED.
import type { stockscraperV1 } from '@pipewright/proto';

export function stockScraperHandlers(): Partial<stockscraperV1.StockScraperServer> {
  return {};
}

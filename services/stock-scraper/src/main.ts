// stock-scraper's wiring, and nothing else: settings, its topics, the producer and the gRPC
// server. Scraping is not built yet: nothing is consumed, and every gRPC method answers
// UNIMPLEMENTED.
import { runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { stockscraperV1 } from '@pipewright/proto';
import { settings } from './config';
import { stockScraperHandlers } from './grpc';

void runService('stock-scraper', settings, async (svc) => {
  await svc.kafka().ensureTopics([TOPICS.stockScrapingTasks, TOPICS.stockProcessingTasks, TOPICS.scrapingCompletion, TOPICS.scrapingErrors]);
  await svc.producer();
  await svc.serveGrpc([
    { name: 'pipewright.stockscraper.v1.StockScraper', definition: stockscraperV1.StockScraperService, implementation: withUnimplemented(stockscraperV1.StockScraperService, stockScraperHandlers()) },
  ]);
});

// stock-scraper's wiring: settings, its topics, the sources, the consumer of scraping tasks and
// the gRPC server.
import { ConfigError, DLQ_MAX_MESSAGE_BYTES, Slots, runService, withUnimplemented } from '@pipewright/platform';
import { TOPICS, decodeScrapingTask } from '@pipewright/contracts';
import { stockscraperV1 } from '@pipewright/proto';
import { settings } from './config';
import { handleScrapingTasks } from './consumer';
import { stockScraperHandlers } from './grpc';
import { httpSource } from './http-source';
import { ScraperMetrics } from './metrics';
import { syntheticSource } from './source';

const list = (text: string | undefined) =>
  new Set(
    (text ?? '')
      .split(',')
      .map((s) => s.trim().toLowerCase())
      .filter(Boolean),
  );

function headersOf(json: string | undefined): Record<string, string> {
  if (!json) return {};
  let v: unknown;
  try {
    v = JSON.parse(json);
  } catch {
    v = undefined;
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v) || Object.values(v).some((x) => typeof x !== 'string'))
    throw new ConfigError(['STOCK_HTTP_HEADERS is malformed: expected a JSON object of strings']);
  return v as Record<string, string>;
}

void runService('stock-scraper', settings, async (svc) => {
  const { config, logger } = svc;
  const headers = headersOf(config.STOCK_HTTP_HEADERS);
  await svc
    .kafka()
    .ensureTopics([
      TOPICS.stockScrapingTasks,
      TOPICS.stockProcessingTasks,
      TOPICS.scrapingCompletion,
      TOPICS.scrapingErrors,
      { topic: TOPICS.stockScrapingDlq, maxMessageBytes: DLQ_MAX_MESSAGE_BYTES },
    ]);
  const producer = await svc.producer();
  const metrics = new ScraperMetrics(svc.registry);
  const consumer = await svc.consume({
    groupId: 'stock-scraper',
    topics: [TOPICS.stockScrapingTasks],
    dlqTopic: TOPICS.stockScrapingDlq,
    decode: (msg) => decodeScrapingTask(msg.value),
    handleBatch: handleScrapingTasks({
      sources: {
        synthetic: syntheticSource({ latencyMs: config.STOCK_SYNTHETIC_LATENCY, failureRate: config.STOCK_SYNTHETIC_FAILURE_RATE, failRegions: list(config.STOCK_SYNTHETIC_FAIL_REGIONS) }),
        http: config.STOCK_HTTP_URL ? httpSource({ urlTemplate: config.STOCK_HTTP_URL, timeoutMs: config.STOCK_HTTP_TIMEOUT, headers }) : undefined,
      },
      config,
      producer,
      limiter: new Slots(config.STOCK_SCRAPE_CONCURRENCY),
      metrics,
      logger,
    }),
    maxBatchSize: 10,
    partitionsConsumedConcurrently: config.STOCK_SCRAPE_REGIONS,
  });
  await svc.serveGrpc([
    {
      name: 'pipewright.stockscraper.v1.StockScraper',
      definition: stockscraperV1.StockScraperService,
      implementation: withUnimplemented(
        stockscraperV1.StockScraperService,
        stockScraperHandlers(metrics, () => consumer.stats.sentToDlq, logger),
      ),
    },
  ]);
});

// stock-scraper's settings: the ones every service has, how pages are fetched (size, how many
// at once, retries), the synthetic source's latency and failures, and the http source's URL,
// timeout and headers.
import { service } from '@pipewright/contracts';
import { serviceSettings, setting, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(service('stock-scraper').grpcPort, {
  STOCK_PAGE_SIZE: setting.int('companies asked for per page of the source', { default: 50, min: 1, max: 10_000 }),
  STOCK_SCRAPE_CONCURRENCY: setting.int('pages this process fetches at once, shared by the regions it scrapes', { default: 4, min: 1, max: 1000 }),
  STOCK_SCRAPE_REGIONS: setting.int('regions this process scrapes at once (scraping tasks handled together)', { default: 4, min: 1, max: 100 }),
  STOCK_SCRAPE_RETRY_BACKOFF: setting.durations('waits between the attempts of a page that fails, comma-separated: one retry per entry, then the region fails (scraping-errors); none: no retry', {
    default: '200ms,400ms,800ms',
    allowEmpty: true,
  }),
  STOCK_SYNTHETIC_LATENCY: setting.duration('how long the synthetic source takes per page (±20%), as a real site would', { default: '50ms' }),
  STOCK_SYNTHETIC_FAILURE_RATE: setting.fraction('share of the synthetic source page attempts that fail, picked by run, region, page and attempt (a replayed task fails alike)', { default: 0 }),
  STOCK_SYNTHETIC_FAIL_REGIONS: setting.optionalString('regions (comma-separated) whose every synthetic page attempt fails, to see a region fail its retries'),
  STOCK_HTTP_URL: setting.optionalString('URL template of the http source: {region}, {date} (YYYY-MM-DD), {page} (from 1) and {pageSize} are replaced; without {page}, one request per region'),
  STOCK_HTTP_TIMEOUT: setting.duration('how long the http source may take to answer a page', { default: '10s', minMs: 1 }),
  STOCK_HTTP_HEADERS: setting.optionalString('request headers of the http source, as a JSON object such as {"authorization": "Bearer ..."}', { secret: true }),
});

export type Config = ConfigOf<typeof settings>;

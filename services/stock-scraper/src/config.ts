// stock-scraper's settings: today only the ones every service has. Its own settings (the data
// source, the http source's URL template, timeout and retries, the synthetic source's latency
// and failure rate) go here when scraping is built; none is declared yet, since nothing would
// read them.
import { service } from '@pipewright/contracts';
import { serviceSettings, type ConfigOf } from '@pipewright/platform';

export const settings = serviceSettings(service('stock-scraper').grpcPort, {});

export type Config = ConfigOf<typeof settings>;

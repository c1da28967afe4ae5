import { prom } from '@pipewright/platform';
import type { stockscraperV1 } from '@pipewright/proto';

/** What this replica did, for GetStats and as stock_scraper_total{what} on /metrics. */
export class ScraperMetrics {
  readonly stats: stockscraperV1.ScraperStats = { tasksReceived: 0, symbolsSent: 0, errors: 0, regionsCompleted: 0, pagesFetched: 0, pageRetries: 0, filteredOut: 0, deadLettered: 0 };

  constructor(registry: prom.Registry) {
    const stats = this.stats;
    new prom.Counter({
      name: 'stock_scraper_total',
      help: 'What the scraper did, by what: tasksReceived, symbolsSent, errors (regions failed), regionsCompleted, pagesFetched, pageRetries, filteredOut, deadLettered',
      labelNames: ['what'],
      registers: [registry],
      collect() {
        this.reset();
        for (const [what, n] of Object.entries(stats)) this.inc({ what }, n as number);
      },
    });
  }
}

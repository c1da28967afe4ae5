import { unary, type Logger } from '@pipewright/platform';
import { executorV1 } from '@pipewright/proto';
import type { Registry } from './registry';
import type { ExecutorMetrics } from './metrics';

export function executorHandlers(registry: Registry, metrics: ExecutorMetrics, logger: Logger): Partial<executorV1.ExecutorServer> {
  return {
    listHandlers: unary(logger, async () => ({
      apps: [...registry.values()].map((a) => ({ appName: a.name, handler: a.handler, optionsJson: JSON.stringify(a.options) })),
    })),
    getStats: unary(logger, async () => {
      const c = metrics.counts;
      return {
        runsStarted: c.started,
        runsSucceeded: c.succeeded,
        runsFailed: c.failed,
        runsDead: c.dead,
        duplicatesSkipped: c.duplicates,
        inFlight: c.inFlight,
        publishedPerTopic: Object.fromEntries(metrics.perTopic),
      };
    }),
  };
}

// StartStockRun's request: read into the contracts' run input, checked there (the error names
// the request's field, regions[2] or market_cap.min), and planned as the announcement and the
// scraping tasks to publish.
import { invalidArgument } from '@pipewright/platform';
import { StockRunError, planStockRun, type StockRunPlan } from '@pipewright/contracts';
import type { ingestV1 } from '@pipewright/proto';

const PROTO_FIELD: Record<string, string> = { runId: 'run_id', marketCap: 'market_cap', tradingDate: 'trading_date' };
const protoField = (field: string) => field.replace(/^[a-zA-Z]+/, (head) => PROTO_FIELD[head] ?? head);

export function planFromRequest(req: ingestV1.StartStockRunRequest, now: Date): StockRunPlan {
  try {
    return planStockRun(
      {
        runId: req.runId,
        regions: req.regions,
        marketCap: req.marketCap ? { min: req.marketCap.min as unknown, max: req.marketCap.max as unknown } : undefined,
        limit: req.limit,
        source: req.source,
        tradingDate: req.tradingDate,
      },
      { now, origin: 'grpc' },
    );
  } catch (err) {
    if (!(err instanceof StockRunError)) throw err;
    const [first, ...rest] = err.problems.map((p) => ({ field: protoField(p.field), description: p.problem }));
    throw invalidArgument(first.field, first.description, rest);
  }
}

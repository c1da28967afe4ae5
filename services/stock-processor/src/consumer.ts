// Processing tasks from `stock-processing-tasks`, one per symbol, keyed by symbol. A fetched
// batch at a time: each task's ratios are computed (ratios.ts), then every row of the batch is
// stored in one transaction keyed by (run id, symbol), first write wins; then one
// ProcessingCompletion per symbol stored (now or before: a redelivery is answered again) and one
// ProcessingError per symbol that failed, both keyed by run id; then the offset is committed.
// A task that cannot be decoded went to stock-processing-dlq before the batch reached here.
import { createRng, TOPICS, type ProcessingCompletion, type ProcessingError, type ProcessingTask } from '@pipewright/contracts';
import { withTransaction, type BatchItem, type Logger, type MessageProducer, type Pool } from '@pipewright/platform';
import { computeRatios, unprocessable } from './ratios';
import { storeFailures, storeRatios, type FailureRow, type RatioRow } from './store';
import type { ProcessorMetrics } from './metrics';

export interface ProcessorDeps {
  pool: Pool;
  producer: MessageProducer;
  metrics: ProcessorMetrics;
  logger: Logger;
  /** STOCK_PROCESSING_FAILURE_RATE */
  failureRate: number;
}

/** The simulated failure: about `rate` of the symbols, picked by (run id, symbol). */
export function simulatedFailure(t: ProcessingTask, rate: number): string | undefined {
  return rate > 0 && createRng(`${t.runId}|${t.symbol}`).next() < rate ? `simulated processing failure of ${t.symbol} (STOCK_PROCESSING_FAILURE_RATE)` : undefined;
}

export function ratioRow(t: ProcessingTask): RatioRow {
  const r = computeRatios(t);
  const f = t.fundamentals;
  return {
    run_id: t.runId,
    symbol: t.symbol,
    region: t.region,
    trading_date: t.tradingDate,
    name: t.name,
    exchange: t.exchange,
    currency: t.currency,
    sector: t.sector,
    price: t.price,
    shares_outstanding: t.sharesOutstanding,
    usd_rate: t.usdRate,
    net_income: f.netIncome,
    equity: f.equity,
    revenue: f.revenue,
    ebitda: f.ebitda,
    total_debt: f.totalDebt,
    cash: f.cash,
    current_assets: f.currentAssets,
    current_liabilities: f.currentLiabilities,
    dividends_per_share: f.dividendsPerShare,
    market_cap: r.marketCap,
    market_cap_usd: r.marketCapUsd,
    eps: r.eps,
    pe_ratio: r.pe,
    pb_ratio: r.pb,
    ps_ratio: r.ps,
    enterprise_value: r.enterpriseValue,
    ev_ebitda: r.evEbitda,
    debt_to_equity: r.debtToEquity,
    roe: r.roe,
    current_ratio: r.currentRatio,
    dividend_yield: r.dividendYield,
  };
}

export function handleProcessingTasks(d: ProcessorDeps) {
  return async (items: Array<BatchItem<ProcessingTask>>): Promise<void> => {
    const rows: RatioRow[] = [];
    const failures: FailureRow[] = [];
    for (const { value: t } of items) {
      const error = unprocessable(t) ?? simulatedFailure(t, d.failureRate);
      if (error) failures.push({ run_id: t.runId, symbol: t.symbol, region: t.region, error });
      else rows.push(ratioRow(t));
    }
    const inserted = await withTransaction(d.pool, async (client) => {
      const n = await storeRatios(client, rows);
      await storeFailures(client, failures);
      return n;
    });
    const completions = rows.map((r) => ({ key: r.run_id, value: { runId: r.run_id, region: r.region, symbol: r.symbol } satisfies ProcessingCompletion }));
    const errors = failures.map((f) => ({ key: f.run_id, value: { runId: f.run_id, region: f.region, symbol: f.symbol, error: f.error } satisfies ProcessingError }));
    await Promise.all([d.producer.send(TOPICS.processingCompletion, completions), d.producer.send(TOPICS.processingErrors, errors)]);
    d.metrics.batch(items.length, rows.length - inserted, failures.length);
    d.logger.debug({ tasks: items.length, stored: inserted, duplicates: rows.length - inserted, failed: failures.length }, 'processing tasks handled');
  };
}

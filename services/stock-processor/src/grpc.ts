// gRPC queries of the computed ratios, pipewright.stockprocessor.v1.StockProcessor: GetRatios,
// ListRatios (the screener) and GetStats. Every read goes through store.ts.
import { decodePageToken, encodePageToken, invalidArgument, notFound, pageSizeOf, unary, type Logger, type Pool } from '@pipewright/platform';
import { stockprocessorV1 } from '@pipewright/proto';
import { processorCounts, screenRatios, symbolRatios, type ScreenColumn, type StoredRatioRow } from './store';
import type { ProcessorMetrics } from './metrics';

const { RatioField } = stockprocessorV1;

/** The column of each RatioField; undefined for UNSPECIFIED (by symbol) and unknown values. */
const COLUMN: Partial<Record<stockprocessorV1.RatioField, ScreenColumn>> = {
  [RatioField.RATIO_FIELD_MARKET_CAP]: 'market_cap',
  [RatioField.RATIO_FIELD_MARKET_CAP_USD]: 'market_cap_usd',
  [RatioField.RATIO_FIELD_PRICE]: 'price',
  [RatioField.RATIO_FIELD_EPS]: 'eps',
  [RatioField.RATIO_FIELD_PE]: 'pe_ratio',
  [RatioField.RATIO_FIELD_PB]: 'pb_ratio',
  [RatioField.RATIO_FIELD_PS]: 'ps_ratio',
  [RatioField.RATIO_FIELD_EV_EBITDA]: 'ev_ebitda',
  [RatioField.RATIO_FIELD_DEBT_TO_EQUITY]: 'debt_to_equity',
  [RatioField.RATIO_FIELD_ROE]: 'roe',
  [RatioField.RATIO_FIELD_CURRENT_RATIO]: 'current_ratio',
  [RatioField.RATIO_FIELD_DIVIDEND_YIELD]: 'dividend_yield',
};

const known = (v: number | null) => (v === null ? undefined : v);

export function toRatios(r: StoredRatioRow): stockprocessorV1.Ratios {
  return {
    symbol: r.symbol,
    runId: r.run_id,
    region: r.region,
    name: r.name,
    exchange: r.exchange,
    currency: r.currency,
    sector: r.sector,
    tradingDate: r.trading_date,
    price: r.price,
    sharesOutstanding: r.shares_outstanding,
    marketCap: r.market_cap,
    marketCapUsd: known(r.market_cap_usd),
    eps: known(r.eps),
    peRatio: known(r.pe_ratio),
    pbRatio: known(r.pb_ratio),
    psRatio: known(r.ps_ratio),
    enterpriseValue: known(r.enterprise_value),
    evEbitda: known(r.ev_ebitda),
    debtToEquity: known(r.debt_to_equity),
    roe: known(r.roe),
    currentRatio: known(r.current_ratio),
    dividendYield: known(r.dividend_yield),
    storedAt: r.stored_at,
  };
}

/** A screener listing: its order and its last row (sort value, symbol). */
type ScreenToken = { o: number; d: boolean; v: number | null; s: string };
const isScreenToken = (v: unknown): v is ScreenToken =>
  typeof v === 'object' &&
  v !== null &&
  typeof (v as ScreenToken).s === 'string' &&
  typeof (v as ScreenToken).o === 'number' &&
  (typeof (v as ScreenToken).v === 'number' || (v as ScreenToken).v === null);

export function stockProcessorHandlers(pool: Pool, metrics: ProcessorMetrics, deadLettered: () => number, logger: Logger): Partial<stockprocessorV1.StockProcessorServer> {
  return {
    getRatios: unary(logger, async (req: stockprocessorV1.GetRatiosRequest) => {
      if (!req.symbol) throw invalidArgument('symbol', 'is required');
      const row = await symbolRatios(pool, req.symbol, req.runId);
      if (!row) throw notFound(req.runId ? `ratios of ${req.symbol} in run ${req.runId}` : `ratios of ${req.symbol}`);
      return toRatios(row);
    }),

    listRatios: unary(logger, async (req: stockprocessorV1.ListRatiosRequest) => {
      const sort = COLUMN[req.orderBy];
      if (req.orderBy !== RatioField.RATIO_FIELD_UNSPECIFIED && !sort) throw invalidArgument('order_by', 'is not a known RatioField');
      const filters = req.filters.map((f, i) => {
        const column = COLUMN[f.field];
        if (!column) throw invalidArgument(`filters[${i}].field`, 'must name a RatioField to filter on');
        if (f.min !== undefined && f.max !== undefined && f.min > f.max) throw invalidArgument(`filters[${i}].min`, `must not be above max (${f.min} > ${f.max})`);
        return { column, min: f.min, max: f.max };
      });
      const limit = pageSizeOf(req.pageSize);
      const after = decodePageToken(req.pageToken, isScreenToken);
      if (after && (after.o !== Number(req.orderBy) || after.d !== req.descending)) throw invalidArgument('page_token', 'belongs to a listing in another order');
      const rows = await screenRatios(pool, {
        runId: req.runId,
        region: req.region,
        sector: req.sector,
        filters,
        sort,
        descending: req.descending,
        limit: limit + 1,
        after: after ? { value: after.v, symbol: after.s } : undefined,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      const token = (r: StoredRatioRow) => encodePageToken({ o: req.orderBy, d: req.descending, v: sort ? r[sort] : null, s: r.symbol } satisfies ScreenToken);
      return { ratios: page.map(toRatios), nextPageToken: rows.length > limit && last ? token(last) : '' };
    }),

    getStats: unary(logger, async () => {
      const c = await processorCounts(pool);
      return { tasksReceived: metrics.received, deadLettered: deadLettered(), duplicates: metrics.duplicates, tasksCompleted: Number(c.stored), errors: Number(c.failed), runs: Number(c.runs) };
    }),
  };
}

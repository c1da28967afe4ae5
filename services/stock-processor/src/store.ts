// All SQL of the stock-processor, one named function per operation, over its tables in the
// `stock` schema (migrations/001_ratios.sql). A batch of tasks is stored by storeRatios and
// storeFailures in one transaction, each one multi-row statement keyed by (run id, symbol).
import type { Pool, PoolClient } from 'pg';

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** A row of `ratios` as written: every column but stored_at. */
export interface RatioRow {
  run_id: string;
  symbol: string;
  region: string;
  trading_date: string;
  name: string;
  exchange: string;
  currency: string;
  sector: string;
  price: number;
  shares_outstanding: number;
  usd_rate: number | null;
  net_income: number | null;
  equity: number | null;
  revenue: number | null;
  ebitda: number | null;
  total_debt: number | null;
  cash: number | null;
  current_assets: number | null;
  current_liabilities: number | null;
  dividends_per_share: number | null;
  market_cap: number;
  market_cap_usd: number | null;
  eps: number | null;
  pe_ratio: number | null;
  pb_ratio: number | null;
  ps_ratio: number | null;
  enterprise_value: number | null;
  ev_ebitda: number | null;
  debt_to_equity: number | null;
  roe: number | null;
  current_ratio: number | null;
  dividend_yield: number | null;
}

/** A row as read: with its trading date as text and when it was stored. */
export type StoredRatioRow = RatioRow & { stored_at: Date };

const COLUMNS: ReadonlyArray<keyof RatioRow> = [
  'run_id',
  'symbol',
  'region',
  'trading_date',
  'name',
  'exchange',
  'currency',
  'sector',
  'price',
  'shares_outstanding',
  'usd_rate',
  'net_income',
  'equity',
  'revenue',
  'ebitda',
  'total_debt',
  'cash',
  'current_assets',
  'current_liabilities',
  'dividends_per_share',
  'market_cap',
  'market_cap_usd',
  'eps',
  'pe_ratio',
  'pb_ratio',
  'ps_ratio',
  'enterprise_value',
  'ev_ebitda',
  'debt_to_equity',
  'roe',
  'current_ratio',
  'dividend_yield',
];
const LIST = COLUMNS.join(', ');
const READ = `${COLUMNS.filter((c) => c !== 'trading_date').join(', ')}, to_char(trading_date, 'YYYY-MM-DD') AS trading_date, stored_at`;

/** Stores rows whose (run id, symbol) is not stored yet; returns how many were new. */
export async function storeRatios(db: Queryable, rows: RatioRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const r = await db.query(`INSERT INTO ratios (${LIST}) SELECT ${LIST} FROM jsonb_populate_recordset(NULL::ratios, $1::jsonb) ON CONFLICT (run_id, symbol) DO NOTHING`, [JSON.stringify(rows)]);
  return r.rowCount ?? 0;
}

export interface FailureRow {
  run_id: string;
  symbol: string;
  region: string;
  error: string;
}

/** Records symbols that could not be processed, once per (run id, symbol). */
export async function storeFailures(db: Queryable, rows: FailureRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO failures (run_id, symbol, region, error)
     SELECT run_id, symbol, region, error FROM jsonb_to_recordset($1::jsonb) AS f(run_id text, symbol text, region text, error text)
     ON CONFLICT (run_id, symbol) DO NOTHING`,
    [JSON.stringify(rows)],
  );
}

/** One symbol's row of a run, or of the latest run that stored it when runId is empty. */
export async function symbolRatios(db: Queryable, symbol: string, runId: string): Promise<StoredRatioRow | undefined> {
  const { rows } = runId
    ? await db.query<StoredRatioRow>(`SELECT ${READ} FROM ratios WHERE run_id = $1 AND symbol = $2`, [runId, symbol])
    : await db.query<StoredRatioRow>(`SELECT ${READ} FROM ratios WHERE symbol = $1 ORDER BY stored_at DESC LIMIT 1`, [symbol]);
  return rows[0];
}

/** Columns the screener filters and sorts on. */
export const SCREEN_COLUMNS = ['market_cap', 'market_cap_usd', 'price', 'eps', 'pe_ratio', 'pb_ratio', 'ps_ratio', 'ev_ebitda', 'debt_to_equity', 'roe', 'current_ratio', 'dividend_yield'] as const;
export type ScreenColumn = (typeof SCREEN_COLUMNS)[number];

export interface Screen {
  /** Empty: each symbol's latest row. */
  runId: string;
  region: string;
  sector: string;
  filters: Array<{ column: ScreenColumn; min?: number; max?: number }>;
  /** undefined: by symbol. */
  sort?: ScreenColumn;
  descending: boolean;
  limit: number;
  /** The last row of the previous page: its sort value and symbol. */
  after?: { value: number | null; symbol: string };
}

/**
 * A page of the screener: rows that pass every filter (a null never passes), sorted by the
 * column (nulls last) then symbol, after the previous page's last row.
 */
export async function screenRatios(db: Queryable, s: Screen): Promise<StoredRatioRow[]> {
  const params: unknown[] = [];
  const p = (v: unknown) => {
    params.push(v);
    return `$${params.length}`;
  };
  const from = s.runId ? `(SELECT * FROM ratios WHERE run_id = ${p(s.runId)}) r` : '(SELECT DISTINCT ON (symbol) * FROM ratios ORDER BY symbol, stored_at DESC) r';
  const where: string[] = [];
  if (s.region) where.push(`region = ${p(s.region)}`);
  if (s.sector) where.push(`sector = ${p(s.sector)}`);
  for (const f of s.filters) {
    if (f.min !== undefined) where.push(`${f.column} >= ${p(f.min)}`);
    if (f.max !== undefined) where.push(`${f.column} <= ${p(f.max)}`);
    if (f.min === undefined && f.max === undefined) where.push(`${f.column} IS NOT NULL`);
  }
  let order: string;
  if (!s.sort) {
    order = `symbol ${s.descending ? 'DESC' : 'ASC'}`;
    if (s.after) where.push(`symbol ${s.descending ? '<' : '>'} ${p(s.after.symbol)}`);
  } else {
    const col = s.sort;
    order = `${col} ${s.descending ? 'DESC' : 'ASC'} NULLS LAST, symbol`;
    if (s.after && s.after.value === null) where.push(`(${col} IS NULL AND symbol > ${p(s.after.symbol)})`);
    else if (s.after) {
      const v = p(s.after.value);
      where.push(`(${col} ${s.descending ? '<' : '>'} ${v} OR (${col} = ${v} AND symbol > ${p(s.after.symbol)}) OR ${col} IS NULL)`);
    }
  }
  const { rows } = await db.query<StoredRatioRow>(`SELECT ${READ} FROM ${from} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY ${order} LIMIT ${p(s.limit)}`, params);
  return rows;
}

/** Symbols stored and symbols failed, and the runs stored, over every replica. */
export async function processorCounts(db: Queryable): Promise<{ stored: string; failed: string; runs: string }> {
  const { rows } = await db.query<{ stored: string; failed: string; runs: string }>(
    `SELECT (SELECT count(*) FROM ratios)::text AS stored, (SELECT count(*) FROM failures)::text AS failed, (SELECT count(DISTINCT run_id) FROM ratios)::text AS runs`,
  );
  return rows[0];
}

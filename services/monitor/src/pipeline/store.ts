// All SQL of the pipeline's progress, one named function per operation, over the tables of
// migrations/002_pipeline.sql. A batch of events is applied in one transaction: announcements,
// then a row for each run the batch names, then the region and symbol reports (each once by its
// key), then the finish times of the runs that changed, and one notification naming them.
import type { Pool, PoolClient } from 'pg';

type Queryable = Pick<Pool | PoolClient, 'query'>;

/** Channel of the notifications sent when runs change: a JSON array of run ids, or "*" for many. */
export const PIPELINE_CHANNEL = 'monitor_pipeline';
/** PostgreSQL refuses notification payloads of 8000 bytes or more. */
const MAX_PAYLOAD = 7900;

export interface AnnouncementRow {
  run_id: string;
  regions: string[];
  source: string;
  trading_date: string;
  origin: string;
  started_ms: number;
}

export interface RegionReport {
  run_id: string;
  region: string;
  state: 'completed' | 'failed';
  symbols_emitted: number;
  duration_ms: number;
  error: string;
  attempts: number;
  at_ms: number;
}

export interface SymbolReport {
  run_id: string;
  region: string;
  symbol: string;
  state: 'completed' | 'failed';
  error: string;
  at_ms: number;
}

/** Announced runs: a row made by earlier events takes the announcement; a second announcement changes nothing. */
export async function applyAnnouncements(db: Queryable, rows: AnnouncementRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO pipeline_runs AS r (run_id, announced, regions, source, trading_date, origin, started_at)
     SELECT run_id, true, regions, source, trading_date, origin, to_timestamp(started_ms / 1000.0)
       FROM jsonb_to_recordset($1::jsonb) AS a(run_id text, regions text[], source text, trading_date text, origin text, started_ms bigint)
     ON CONFLICT (run_id) DO UPDATE SET announced = true, regions = EXCLUDED.regions, source = EXCLUDED.source, trading_date = EXCLUDED.trading_date,
       origin = EXCLUDED.origin, started_at = EXCLUDED.started_at, updated_at = now()
     WHERE NOT r.announced`,
    [JSON.stringify(rows)],
  );
}

/** A row for each run reported on before its announcement was read (started at its first report). */
export async function ensureRuns(db: Queryable, runs: ReadonlyArray<{ run_id: string; at_ms: number }>): Promise<void> {
  if (runs.length === 0) return;
  await db.query(
    `INSERT INTO pipeline_runs (run_id, started_at)
     SELECT run_id, to_timestamp(min(at_ms) / 1000.0) FROM jsonb_to_recordset($1::jsonb) AS e(run_id text, at_ms bigint) GROUP BY run_id ORDER BY run_id
     ON CONFLICT (run_id) DO NOTHING`,
    [JSON.stringify(runs)],
  );
}

/** Locks the runs' rows for this transaction, in run id order (no two transactions wait on each other in a circle). */
export async function lockRuns(db: Queryable, runIds: string[]): Promise<void> {
  await db.query('SELECT run_id FROM pipeline_runs WHERE run_id = ANY($1::text[]) ORDER BY run_id FOR UPDATE', [runIds]);
}

/** Region reports, once per (run, region); a completion replaces a failure. */
export async function applyRegionReports(db: Queryable, rows: RegionReport[]): Promise<void> {
  if (rows.length === 0) return;
  await db.query(
    `INSERT INTO pipeline_regions AS g (run_id, region, state, symbols_emitted, duration_ms, error, attempts, reported_at)
     SELECT DISTINCT ON (run_id, region) run_id, region, state, symbols_emitted, duration_ms, error, attempts, to_timestamp(at_ms / 1000.0)
       FROM jsonb_to_recordset($1::jsonb) AS e(run_id text, region text, state text, symbols_emitted int, duration_ms bigint, error text, attempts int, at_ms bigint)
      ORDER BY run_id, region, state
     ON CONFLICT (run_id, region) DO UPDATE SET state = EXCLUDED.state, symbols_emitted = EXCLUDED.symbols_emitted, duration_ms = EXCLUDED.duration_ms,
       error = '', attempts = EXCLUDED.attempts, reported_at = EXCLUDED.reported_at
     WHERE g.state = 'failed' AND EXCLUDED.state = 'completed'`,
    [JSON.stringify(rows)],
  );
}

/** Symbol reports, once per (run, region, symbol); a completion replaces a failure. */
export async function applySymbolReports(db: Queryable, rows: SymbolReport[]): Promise<void> {
  if (rows.length === 0) return;
  // DISTINCT ON keeps one row per key ('completed' sorts first): one statement may not touch a row twice.
  await db.query(
    `INSERT INTO pipeline_symbols AS y (run_id, region, symbol, state, error, reported_at)
     SELECT DISTINCT ON (run_id, region, symbol) run_id, region, symbol, state, error, to_timestamp(at_ms / 1000.0)
       FROM jsonb_to_recordset($1::jsonb) AS e(run_id text, region text, symbol text, state text, error text, at_ms bigint)
      ORDER BY run_id, region, symbol, state
     ON CONFLICT (run_id, region, symbol) DO UPDATE SET state = EXCLUDED.state, error = '', reported_at = EXCLUDED.reported_at
     WHERE y.state = 'failed' AND EXCLUDED.state = 'completed'`,
    [JSON.stringify(rows)],
  );
}

/** Sets (or clears) the finish times the runs' figures now give, and notifies that they changed. */
export async function settleRuns(db: Queryable, finished: Array<{ run_id: string; finished_ms: number | null }>): Promise<void> {
  if (finished.length === 0) return;
  const ids = finished.map((f) => f.run_id);
  const payload = JSON.stringify(ids);
  await db.query(
    `WITH s AS (
       UPDATE pipeline_runs r SET finished_at = CASE WHEN f.finished_ms IS NULL THEN NULL ELSE coalesce(r.finished_at, to_timestamp(f.finished_ms / 1000.0)) END, updated_at = now()
         FROM jsonb_to_recordset($1::jsonb) AS f(run_id text, finished_ms bigint) WHERE r.run_id = f.run_id
       RETURNING 1)
     SELECT pg_notify($2, $3) FROM (SELECT count(*) FROM s) AS done`,
    [JSON.stringify(finished), PIPELINE_CHANNEL, payload.length < MAX_PAYLOAD ? payload : '"*"'],
  );
}

export interface RunRow {
  run_id: string;
  announced: boolean;
  regions: string[];
  source: string;
  trading_date: string;
  started_at: Date;
  finished_at: Date | null;
}

/** A region's report with what its symbols came to. */
export interface RegionRow {
  run_id: string;
  region: string;
  state: 'completed' | 'failed';
  symbols_emitted: number;
  duration_ms: string;
  error: string;
  reported_at: Date;
  completed: number;
  failed: number;
  first_symbol_at: Date | null;
  last_symbol_at: Date | null;
}

const RUN_COLUMNS = 'run_id, announced, regions, source, trading_date, started_at, finished_at';

export async function runRows(db: Queryable, runIds: string[]): Promise<RunRow[]> {
  const { rows } = await db.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM pipeline_runs WHERE run_id = ANY($1::text[])`, [runIds]);
  return rows;
}

/** The reported regions of these runs, each with its symbols processed and failed. */
export async function regionRows(db: Queryable, runIds: string[]): Promise<RegionRow[]> {
  const { rows } = await db.query<RegionRow>(
    `SELECT g.run_id, g.region, g.state, g.symbols_emitted, g.duration_ms::text, g.error, g.reported_at,
            count(y.symbol) FILTER (WHERE y.state = 'completed')::int AS completed, count(y.symbol) FILTER (WHERE y.state = 'failed')::int AS failed,
            min(y.reported_at) AS first_symbol_at, max(y.reported_at) AS last_symbol_at
       FROM pipeline_regions g LEFT JOIN pipeline_symbols y ON y.run_id = g.run_id AND y.region = g.region
      WHERE g.run_id = ANY($1::text[])
      GROUP BY g.run_id, g.region ORDER BY g.run_id, g.region`,
    [runIds],
  );
  return rows;
}

export interface ErrorRow {
  stage: 'scraping' | 'processing';
  region: string;
  symbol: string;
  error: string;
  attempts: number;
  reported_at: Date;
}

/** The run's latest failures of both stages, newest first. */
export async function recentRunErrors(db: Queryable, runId: string, limit: number): Promise<ErrorRow[]> {
  const { rows } = await db.query<ErrorRow>(
    `(SELECT 'scraping' AS stage, region, '' AS symbol, error, attempts, reported_at FROM pipeline_regions WHERE run_id = $1 AND state = 'failed')
     UNION ALL
     (SELECT 'processing', region, symbol, error, 0, reported_at FROM pipeline_symbols WHERE run_id = $1 AND state = 'failed' ORDER BY reported_at DESC LIMIT $2)
     ORDER BY reported_at DESC LIMIT $2`,
    [runId, limit],
  );
  return rows;
}

/** A page of runs, newest first, after the previous page's last run. */
export async function listRuns(db: Queryable, q: { limit: number; runningOnly: boolean; after?: { startedAt: string; runId: string } }): Promise<RunRow[]> {
  const { rows } = await db.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM pipeline_runs
      WHERE ($2::boolean IS FALSE OR finished_at IS NULL)
        AND ($3::timestamptz IS NULL OR (started_at, run_id) < ($3::timestamptz, $4))
      ORDER BY started_at DESC, run_id DESC LIMIT $1`,
    [q.limit, q.runningOnly, q.after?.startedAt ?? null, q.after?.runId ?? ''],
  );
  return rows;
}

/** Runs that are not complete. */
export async function countRunningRuns(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM pipeline_runs WHERE finished_at IS NULL');
  return rows[0].n;
}

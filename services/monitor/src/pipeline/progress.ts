// What a run's stored reports come to: per stage sent, completed, failed, pending, percent,
// times; per region its state; the run's percent and whether it is complete. Pure: the rows in,
// the figures out, so that the consumer (finish times) and the gRPC methods read runs alike.
//
// The scraping stage has one task per region of the announcement. The processing stage has
// the symbols the scraped regions emitted; a symbol's report counts once its region's report
// is in (the processor may report a symbol before the scraper reports its region). The run is
// complete when every region reported and every symbol of the completed regions was processed
// or failed.
import type { monitorV1 } from '@pipewright/proto';
import type { RegionRow, RunRow } from './store';

export interface RunProgress {
  status: monitorV1.PipelineStatus;
  complete: boolean;
  /** The time of the run's last report, once complete. */
  finishedAt?: Date;
}

/** A percentage to two decimals. */
const round2 = (v: number) => Math.round(v * 100) / 100;
const pct = (done: number, sent: number) => (sent === 0 ? 0 : Math.min(100, round2((done / sent) * 100)));
const latest = (dates: Array<Date | null | undefined>) => dates.reduce<Date | undefined>((a, d) => (d && (!a || d > a) ? d : a), undefined);
const earliest = (dates: Array<Date | null | undefined>) => dates.reduce<Date | undefined>((a, d) => (d && (!a || d < a) ? d : a), undefined);
const since = (from: Date | undefined, to: Date | undefined, now: Date) => (from ? Math.max(0, (to ?? now).getTime() - from.getTime()) : 0);

function stage(sent: number, completed: number, failed: number, startedAt: Date | undefined, finishedAt: Date | undefined, now: Date): monitorV1.StageProgress {
  return { sent, completed, failed, pending: Math.max(0, sent - completed - failed), percent: pct(completed + failed, sent), startedAt, finishedAt, durationMs: since(startedAt, finishedAt, now) };
}

export function runProgress(run: RunRow, reported: RegionRow[], now = new Date()): RunProgress {
  const byRegion = new Map(reported.map((r) => [r.region, r]));
  // Before the announcement, the regions that reported are all that is known.
  const regions = run.announced ? run.regions : [...byRegion.keys()].sort();
  const mine = regions.map((region) => ({ region, row: byRegion.get(region) }));
  const completed = mine.filter((m) => m.row?.state === 'completed').map((m) => m.row as RegionRow);
  const failedRegions = mine.filter((m) => m.row?.state === 'failed').length;
  const scrapeDone = run.announced && completed.length + failedRegions === regions.length;

  const emitted = completed.reduce((n, r) => n + r.symbols_emitted, 0);
  const symbolsDone = completed.reduce((n, r) => n + r.completed, 0);
  const symbolsFailed = completed.reduce((n, r) => n + r.failed, 0);
  const complete = scrapeDone && completed.every((r) => r.completed + r.failed >= r.symbols_emitted);

  const lastReport = latest([...mine.map((m) => m.row?.reported_at), ...completed.map((r) => r.last_symbol_at)]);
  const scraping = stage(regions.length, completed.length, failedRegions, run.started_at, scrapeDone ? latest(mine.map((m) => m.row?.reported_at)) : undefined, now);
  const processing = stage(
    emitted,
    symbolsDone,
    symbolsFailed,
    earliest(completed.map((r) => r.first_symbol_at)),
    complete ? (latest(completed.map((r) => r.last_symbol_at)) ?? lastReport) : undefined,
    now,
  );

  // Each region weighs the same: 0 until it reports, then its share of symbols done (all of it
  // for a failed region or one that emitted none), so the figure never goes down.
  const regionShare = (m: (typeof mine)[number]) => {
    if (!m.row) return 0;
    if (m.row.state === 'failed' || m.row.symbols_emitted === 0) return 1;
    return Math.min(1, (m.row.completed + m.row.failed) / m.row.symbols_emitted);
  };
  const percent = complete ? 100 : regions.length === 0 ? 0 : Math.min(99.99, round2((mine.reduce((n, m) => n + regionShare(m), 0) / regions.length) * 100));
  const finishedAt = complete ? (run.finished_at ?? lastReport) : undefined;

  const status: monitorV1.PipelineStatus = {
    runId: run.run_id,
    sent: scraping.sent + processing.sent,
    completed: scraping.completed + processing.completed,
    failed: scraping.failed + processing.failed,
    pending: scraping.pending + processing.pending,
    percent,
    complete,
    announced: run.announced,
    regions,
    source: run.source,
    tradingDate: run.trading_date,
    startedAt: run.started_at,
    finishedAt,
    durationMs: since(run.started_at, finishedAt, now),
    scraping,
    processing,
    regionProgress: mine.map(({ region, row }) => ({
      region,
      state: row ? row.state.toUpperCase() : 'PENDING',
      symbolsEmitted: row?.state === 'completed' ? row.symbols_emitted : 0,
      symbolsCompleted: row?.state === 'completed' ? row.completed : 0,
      symbolsFailed: row?.state === 'completed' ? row.failed : 0,
      scrapeDurationMs: row ? Number(row.duration_ms) : 0,
      error: row?.error ?? '',
    })),
    recentErrors: [],
  };
  return { status, complete, finishedAt: complete ? lastReport : undefined };
}

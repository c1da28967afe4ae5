// The pipeline's progress events: run announcements (`stock-runs`) and the completion and error
// topics of both stages, each decoded by its topic (bytes that are not such an event go to
// stock-progress-dlq). A fetched batch is applied in one transaction: every report is stored
// once by its key, so a redelivered event counts once; then the runs it touched are read back,
// their finish times set, and watchers notified. The offset is committed after, so a restart
// of the monitor loses nothing.
import { TOPICS, decodeProcessingCompletion, decodeProcessingError, decodeScrapingCompletion, decodeScrapingError, decodeStockRunAnnouncement } from '@pipewright/contracts';
import { withTransaction, type BatchItem, type InboundMessage, type Logger, type Pool } from '@pipewright/platform';
import { runProgress } from './progress';
import { applyAnnouncements, applyRegionReports, applySymbolReports, ensureRuns, lockRuns, regionRows, runRows, settleRuns, type AnnouncementRow, type RegionReport, type SymbolReport } from './store';

export const PIPELINE_TOPICS = [TOPICS.stockRuns, TOPICS.scrapingCompletion, TOPICS.scrapingErrors, TOPICS.processingCompletion, TOPICS.processingErrors];

export type PipelineEvent = { kind: 'run'; row: AnnouncementRow } | { kind: 'region'; row: RegionReport } | { kind: 'symbol'; row: SymbolReport };

/** An event from its topic's message; throws (to the DLQ) when the bytes are not one. */
export function decodePipelineEvent(msg: InboundMessage): PipelineEvent {
  const at = Number(msg.timestamp);
  switch (msg.topic) {
    case TOPICS.stockRuns: {
      const a = decodeStockRunAnnouncement(msg.value);
      return { kind: 'run', row: { run_id: a.runId, regions: a.regions, source: a.source, trading_date: a.tradingDate, origin: a.origin, started_ms: a.requestedAt } };
    }
    case TOPICS.scrapingCompletion: {
      const c = decodeScrapingCompletion(msg.value);
      return {
        kind: 'region',
        row: { run_id: c.runId, region: c.region, state: 'completed', symbols_emitted: c.symbolsEmitted, duration_ms: Math.round(c.durationMs), error: '', attempts: 0, at_ms: at },
      };
    }
    case TOPICS.scrapingErrors: {
      const e = decodeScrapingError(msg.value);
      return { kind: 'region', row: { run_id: e.runId, region: e.region, state: 'failed', symbols_emitted: 0, duration_ms: 0, error: e.error, attempts: e.attempts, at_ms: at } };
    }
    case TOPICS.processingCompletion: {
      const c = decodeProcessingCompletion(msg.value);
      return { kind: 'symbol', row: { run_id: c.runId, region: c.region, symbol: c.symbol, state: 'completed', error: '', at_ms: at } };
    }
    case TOPICS.processingErrors: {
      const e = decodeProcessingError(msg.value);
      return { kind: 'symbol', row: { run_id: e.runId, region: e.region, symbol: e.symbol, state: 'failed', error: e.error, at_ms: at } };
    }
    default:
      throw new Error(`the pipeline consumer does not read ${msg.topic}`);
  }
}

export function handlePipelineEvents(deps: { pool: Pool; logger: Logger }) {
  return async (items: Array<BatchItem<PipelineEvent>>): Promise<void> => {
    const runs: AnnouncementRow[] = [];
    const regions: RegionReport[] = [];
    const symbols: SymbolReport[] = [];
    for (const { value: e } of items) {
      if (e.kind === 'run') runs.push(e.row);
      else if (e.kind === 'region') regions.push(e.row);
      else symbols.push(e.row);
    }
    const touched = [...new Set([...runs, ...regions, ...symbols].map((r) => r.run_id))];
    await withTransaction(deps.pool, async (client) => {
      await ensureRuns(client, [...runs.map((r) => ({ run_id: r.run_id, at_ms: r.started_ms })), ...[...regions, ...symbols].map((r) => ({ run_id: r.run_id, at_ms: r.at_ms }))]);
      // Batches of other partitions may report on the same runs at the same time: each waits for
      // the other here, so that the one that completes a run sees every report before it.
      await lockRuns(client, touched);
      await applyAnnouncements(client, runs);
      await applyRegionReports(client, regions);
      await applySymbolReports(client, symbols);
      const reported = await regionRows(client, touched);
      const finished = (await runRows(client, touched)).map((run) => {
        const p = runProgress(
          run,
          reported.filter((r) => r.run_id === run.run_id),
        );
        return { run_id: run.run_id, finished_ms: p.finishedAt ? p.finishedAt.getTime() : null };
      });
      await settleRuns(client, finished);
    });
    deps.logger.debug({ topic: items[0]?.msg.topic, events: items.length, runs: touched.length }, 'pipeline events applied');
  };
}

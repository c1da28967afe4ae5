// The pipeline's methods of pipewright.monitor.v1.Monitor: GetPipelineStatus, ListPipelineRuns
// and the WatchPipeline stream. Every read goes through store.ts; the figures come from
// progress.ts.
import { decodePageToken, encodePageToken, grpc, invalidArgument, notFound, pageSizeOf, toStatus, unary, type Logger, type Pool } from '@pipewright/platform';
import type { monitorV1 } from '@pipewright/proto';
import { runProgress } from './progress';
import { listRuns, recentRunErrors, regionRows, runRows, type ErrorRow } from './store';
import type { PipelineFeed } from './watch';

const RECENT_ERRORS = 20;
/** A watcher reads the run at most this often, however often it changes. */
const WATCH_MIN_INTERVAL_MS = 100;
/** And at least this often: a run not announced yet, or a notification lost with its connection. */
const WATCH_POLL_MS = 2000;

const toError = (e: ErrorRow): monitorV1.PipelineError => ({ stage: e.stage, region: e.region, symbol: e.symbol, error: e.error, attempts: e.attempts, at: e.reported_at });

/** The run's status with its latest errors, or undefined when the monitor has read nothing of it. */
export async function pipelineStatus(pool: Pool, runId: string): Promise<monitorV1.PipelineStatus | undefined> {
  const [run] = await runRows(pool, [runId]);
  if (!run) return undefined;
  const [regions, errors] = await Promise.all([regionRows(pool, [runId]), recentRunErrors(pool, runId, RECENT_ERRORS)]);
  const { status } = runProgress(run, regions);
  status.recentErrors = errors.map(toError);
  return status;
}

/** What a watcher is sent again for: the figures, not the durations that grow by themselves. */
const fingerprint = (s: monitorV1.PipelineStatus) =>
  JSON.stringify([s.sent, s.completed, s.failed, s.pending, s.percent, s.complete, s.announced, s.regionProgress, s.recentErrors.length, s.scraping?.finishedAt, s.processing?.startedAt]);

type RunsToken = { t: string; r: string };
const isRunsToken = (v: unknown): v is RunsToken => typeof v === 'object' && v !== null && typeof (v as RunsToken).t === 'string' && typeof (v as RunsToken).r === 'string';

export function pipelineHandlers(d: { pool: Pool; feed: PipelineFeed; logger: Logger }): Partial<monitorV1.MonitorServer> {
  const { pool, feed, logger } = d;
  return {
    getPipelineStatus: unary(logger, async (req: monitorV1.GetPipelineStatusRequest) => {
      if (!req.runId) throw invalidArgument('run_id', 'is required');
      const status = await pipelineStatus(pool, req.runId);
      if (!status) throw notFound(`run ${req.runId}`);
      return status;
    }),

    listPipelineRuns: unary(logger, async (req: monitorV1.ListPipelineRunsRequest) => {
      const limit = pageSizeOf(req.pageSize);
      const after = decodePageToken(req.pageToken, isRunsToken);
      const runs = await listRuns(pool, { limit: limit + 1, runningOnly: req.runningOnly, after: after ? { startedAt: after.t, runId: after.r } : undefined });
      const page = runs.slice(0, limit);
      const regions = await regionRows(
        pool,
        page.map((r) => r.run_id),
      );
      const last = page[page.length - 1];
      return {
        runs: page.map(
          (run) =>
            runProgress(
              run,
              regions.filter((g) => g.run_id === run.run_id),
            ).status,
        ),
        nextPageToken: runs.length > limit && last ? encodePageToken({ t: last.started_at.toISOString(), r: last.run_id } satisfies RunsToken) : '',
      };
    }),

    // The status now (once the run is known), then again whenever its figures change, read at
    // most every WATCH_MIN_INTERVAL_MS; the stream ends after the snapshot that shows the run complete.
    watchPipeline: (call: grpc.ServerWritableStream<monitorV1.GetPipelineStatusRequest, monitorV1.PipelineStatus>) => {
      const runId = call.request.runId;
      if (!runId) return void call.emit('error', toStatus(invalidArgument('run_id', 'is required')).status);
      let ended = false;
      let last = '';
      let reading: Promise<void> | undefined;
      let scheduled: NodeJS.Timeout | undefined;
      let unwatch: (() => void) | undefined;
      const poll = setInterval(() => void read(), WATCH_POLL_MS);
      const stop = () => {
        if (ended) return;
        ended = true;
        clearInterval(poll);
        clearTimeout(scheduled);
        unwatch?.();
      };
      const end = () => {
        const open = !ended;
        stop();
        if (open) call.end();
      };
      const read = (): Promise<void> =>
        (reading ??= (async () => {
          try {
            const status = ended ? undefined : await pipelineStatus(pool, runId);
            if (!status || ended) return;
            const f = fingerprint(status);
            if (f !== last) {
              last = f;
              call.write(status);
            }
            if (status.complete) end();
          } catch (err) {
            logger.warn({ err: (err as Error).message, runId }, 'could not read the run for a watcher; trying again');
          } finally {
            reading = undefined;
          }
        })());
      const changed = () => {
        scheduled ??= setTimeout(() => {
          scheduled = undefined;
          void read();
        }, WATCH_MIN_INTERVAL_MS);
      };
      call.on('cancelled', stop);
      call.on('close', stop);
      void (async () => {
        // Listen first, then read: no change falls between the two.
        const off = await feed.watch(runId, changed, end);
        if (ended) off();
        else unwatch = off;
        await read();
      })().catch((err: unknown) => {
        stop();
        call.emit('error', toStatus(err).status);
      });
    },
  };
}

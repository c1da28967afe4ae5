// Stock runs: every market-data run with live progress bars (the run, and each stage), a link
// to each run's page and, once it is complete, to its screener; and the recent errors of both
// stages.
import { live } from '../api.js';
import { errorText, fill, fmtMs, fmtNum, fmtTime, h, progress, section, table } from '../ui.js';

export function render(main) {
  const runs = h('div', { id: 'runs' });
  const errors = h('div', { id: 'stock-errors' });
  const error = h('p', { class: 'notice error', hidden: true });
  fill(main, h('h1', {}, 'Stock runs'), error, runs, section('Recent errors', errors));
  const recent = { scraper: [], processor: [] };
  const drawErrors = () =>
    fill(
      errors,
      table(
        [
          ['time', (e) => fmtTime(e.time)],
          ['service', (e) => e.service],
          ['run', (e) => (e.stockRunId ? h('a', { href: `/stocks/${encodeURIComponent(e.stockRunId)}`, class: 'mono' }, e.stockRunId) : '')],
          ['error', (e) => e.message],
        ],
        [...recent.scraper, ...recent.processor].sort((a, b) => Date.parse(b.time) - Date.parse(a.time)).slice(0, 20),
        { empty: 'No errors.' },
      ),
    );

  live(
    [
      { id: 'runs', method: 'monitor/ListPipelineRuns', request: { pageSize: 25 } },
      { id: 'scraper', method: 'monitor/ListRecentErrors', request: { service: 'stock-scraper', limit: 20 } },
      { id: 'processor', method: 'monitor/ListRecentErrors', request: { service: 'stock-processor', limit: 20 } },
    ],
    {
      runs(res) {
        if (res.error) return Object.assign(error, { hidden: false, textContent: errorText(res) });
        error.hidden = true;
        fill(
          runs,
          table(
            [
              ['run', (r) => h('a', { href: `/stocks/${encodeURIComponent(r.runId)}`, class: 'mono' }, r.runId)],
              ['regions', (r) => (r.regions ?? []).join(', ')],
              ['progress', (r) => progress(r.percent, `run ${r.runId}`)],
              ['scraping', (r) => stage(r, 'scraping')],
              ['processing', (r) => stage(r, 'processing')],
              ['failed', (r) => fmtNum(r.failed ?? 0)],
              ['started', (r) => fmtTime(r.startedAt)],
              ['took', (r) => (r.complete ? fmtMs(r.durationMs) : 'running')],
              ['screener', (r) => (r.complete ? h('a', { href: `/stocks/${encodeURIComponent(r.runId)}/screener` }, 'screener') : '')],
            ],
            res.runs ?? [],
            { empty: 'No runs yet: start one with npm run stock-demo, grpcurl StartStockRun, or a stock.run job.', rowAttrs: (r) => ({ dataset: { runId: r.runId } }) },
          ),
        );
      },
      scraper(res) {
        recent.scraper = res.errors ?? [];
        drawErrors();
      },
      processor(res) {
        recent.processor = res.errors ?? [];
        drawErrors();
      },
    },
  );
}

/** A stage's bar; "nothing to do" for a finished run whose stage was sent nothing (every region failed). */
function stage(run, name) {
  return run.complete && !Number(run[name]?.sent ?? 0) ? h('span', { class: 'empty' }, 'nothing to do') : progress(run[name]?.percent, `${name} of ${run.runId}`);
}


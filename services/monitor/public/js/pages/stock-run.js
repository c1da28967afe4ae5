// One stock run, followed through Monitor/WatchPipeline: the run's progress, each stage's
// (sent, completed, failed, pending), each region's, the recent errors, and the screener once it
// is complete.
import { live } from '../api.js';
import { badge, errorText, fill, fmtMs, fmtNum, fmtTime, h, progress, section, table } from '../ui.js';

export function render(main, runId) {
  const head = h('div', { id: 'run' });
  const stages = h('div', { id: 'stages' });
  const regions = h('div', { id: 'regions' });
  const errors = h('div', { id: 'run-errors' });
  const error = h('p', { class: 'notice error', hidden: true });
  fill(
    main,
    h('p', {}, h('a', { href: '/stocks' }, '← Stock runs')),
    h('h1', {}, 'Stock run ', h('span', { class: 'mono' }, runId)),
    error,
    head,
    section('Stages', stages),
    section('Regions', regions),
    section('Recent errors', errors),
  );
  fill(head, h('p', { class: 'loading' }, 'Waiting for the run to be announced…'));

  live([{ id: 'run', method: 'monitor/WatchPipeline', request: { runId } }], {
    run(r) {
      if (r.error) return Object.assign(error, { hidden: false, textContent: errorText(r) });
      error.hidden = true;
      fill(
        head,
        h('p', { class: 'big-bar' }, progress(r.percent, 'run progress')),
        h(
          'p',
          {},
          r.complete ? badge('COMPLETE') : badge('RUNNING'),
          ` ${fmtNum(r.completed ?? 0)} completed, ${fmtNum(r.failed ?? 0)} failed, ${fmtNum(r.pending ?? 0)} pending of ${fmtNum(r.sent ?? 0)} · regions ${(r.regions ?? []).join(', ')} · source ${r.source ?? '—'} · trading date ${r.tradingDate ?? '—'} · started ${fmtTime(r.startedAt)}`,
          r.complete ? ` · took ${fmtMs(r.durationMs)}` : '',
        ),
        r.complete ? h('p', {}, h('a', { href: `/stocks/${encodeURIComponent(runId)}/screener`, id: 'screener-link' }, 'Open the screener of this run →')) : '',
      );
      head.dataset.complete = String(Boolean(r.complete));
      fill(
        stages,
        table(
          [
            ['stage', ([name]) => name],
            ['progress', ([name, s]) => progress(s?.percent, `${name} progress`)],
            ['sent', ([, s]) => fmtNum(s?.sent ?? 0)],
            ['completed', ([, s]) => fmtNum(s?.completed ?? 0)],
            ['failed', ([, s]) => fmtNum(s?.failed ?? 0)],
            ['pending', ([, s]) => fmtNum(s?.pending ?? 0)],
            ['took', ([, s]) => (s?.finishedAt ? fmtMs(s.durationMs) : '')],
          ],
          [
            ['scraping', r.scraping],
            ['processing', r.processing],
          ],
        ),
      );
      fill(
        regions,
        table(
          [
            ['region', (g) => g.region],
            ['state', (g) => badge(g.state)],
            ['symbols processed', (g) => progress(Number(g.symbolsEmitted ?? 0) ? (100 * (Number(g.symbolsCompleted ?? 0) + Number(g.symbolsFailed ?? 0))) / Number(g.symbolsEmitted) : g.state === 'PENDING' ? 0 : 100, `region ${g.region}`)],
            ['emitted', (g) => fmtNum(g.symbolsEmitted ?? 0)],
            ['completed', (g) => fmtNum(g.symbolsCompleted ?? 0)],
            ['failed', (g) => fmtNum(g.symbolsFailed ?? 0)],
            ['scrape took', (g) => (g.scrapeDurationMs ? fmtMs(g.scrapeDurationMs) : '')],
            ['error', (g) => g.error ?? ''],
          ],
          r.regionProgress ?? [],
        ),
      );
      fill(
        errors,
        table(
          [
            ['time', (e) => fmtTime(e.at)],
            ['stage', (e) => e.stage],
            ['region', (e) => e.region ?? ''],
            ['symbol', (e) => e.symbol ?? ''],
            ['attempts', (e) => e.attempts ?? ''],
            ['error', (e) => e.error],
          ],
          r.recentErrors ?? [],
          { empty: 'No errors.' },
        ),
      );
    },
  });
}

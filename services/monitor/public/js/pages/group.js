// One consumer group: per partition its lag, offsets, status and last commit, live from
// Monitor/WatchConsumerLag, and each partition's lag at its recent commits as a chart.
import { live } from '../api.js';
import { align, timeChart } from '../chart.js';
import { badge, enumName, errorText, figure, fill, fmtNum, fmtTime, h, section, table } from '../ui.js';

export function render(main, groupId) {
  const summary = h('div', { class: 'figures', id: 'group-summary' });
  const partitions = h('div', { id: 'partitions' });
  const chartBox = h('div', { class: 'chart', id: 'partition-lag-chart' });
  const error = h('p', { class: 'notice error', hidden: true });
  fill(
    main,
    h('p', {}, h('a', { href: '/groups' }, '← Consumer groups')),
    h('h1', {}, 'Consumer group ', h('span', { class: 'mono' }, groupId)),
    error,
    summary,
    section('Lag at each commit, per partition', chartBox),
    section('Partitions', partitions),
  );
  const chart = timeChart(chartBox, { labels: [], yLabel: 'messages' });

  live([{ id: 'lag', method: 'monitor/WatchConsumerLag', request: { groupIds: [groupId] } }], {
    lag(g) {
      if (g.error) return Object.assign(error, { hidden: false, textContent: errorText(g) });
      error.hidden = true;
      fill(
        summary,
        figure('Status', badge(enumName(g.status, 'LAG_STATUS_'))),
        figure('Total lag', fmtNum(g.total ?? 0)),
        figure('Max lag', fmtNum(g.maxLag ?? 0)),
        figure('Max lag (s)', fmtNum(g.maxLagSeconds ?? 0, 1)),
        figure('Evaluated', fmtTime(g.evaluatedAt)),
      );
      const ps = (g.partitions ?? []).slice().sort((a, b) => a.topic.localeCompare(b.topic) || (a.partition ?? 0) - (b.partition ?? 0));
      fill(
        partitions,
        table(
          [
            ['topic', (p) => p.topic],
            ['partition', (p) => p.partition ?? 0],
            ['lag', (p) => fmtNum(p.lag ?? 0)],
            ['committed', (p) => fmtNum(p.committedOffset ?? 0)],
            ['log end', (p) => fmtNum(p.endOffset ?? 0)],
            ['lag (s)', (p) => fmtNum(p.lagSeconds ?? 0, 1)],
            ['status', (p) => badge(enumName(p.status, 'LAG_STATUS_'))],
            ['last commit', (p) => fmtTime(p.lastCommitTime)],
          ],
          ps,
          { empty: 'No partitions with commits.' },
        ),
      );
      // Lag at each commit of the window; -1 means no log-end offset was read before it.
      const withCommits = ps.filter((p) => (p.commits ?? []).length);
      const series = withCommits.map((p) => dedupe((p.commits ?? []).filter((c) => Number(c.lag ?? 0) >= 0).map((c) => [Date.parse(c.time) / 1000, Number(c.lag ?? 0)])));
      chart.set(
        align(series),
        withCommits.map((p) => `${p.topic}/${p.partition ?? 0}`),
      );
    },
  });
}

/** Points sorted by time, one per time. */
function dedupe(points) {
  const byTime = new Map(points.map((p) => [p[0], p]));
  return [...byTime.values()].sort((a, b) => a[0] - b[0]);
}

// Consumer groups: each group's lag and status live from Monitor/WatchConsumerLag, its state and
// members from ListConsumerGroups, and the total lag of the laggiest groups over time.
import { live } from '../api.js';
import { align, timeChart } from '../chart.js';
import { badge, enumName, errorText, fill, fmtNum, h, section, table } from '../ui.js';

const KEEP_POINTS = 300;

export function render(main) {
  const list = h('div', { id: 'groups' });
  const chartBox = h('div', { class: 'chart', id: 'lag-chart' });
  const error = h('p', { class: 'notice error', hidden: true });
  fill(main, h('h1', {}, 'Consumer groups'), error, section('Total lag over time', chartBox), section('Groups', list));
  const chart = timeChart(chartBox, { labels: [], yLabel: 'messages' });
  const lags = new Map();
  const described = new Map();
  const history = new Map();

  const draw = () => {
    const rows = [...lags.values()].sort((a, b) => a.groupId.localeCompare(b.groupId));
    fill(
      list,
      table(
        [
          ['group', (g) => h('a', { href: `/groups/${encodeURIComponent(g.groupId)}` }, g.groupId)],
          ['status', (g) => badge(enumName(g.status, 'LAG_STATUS_'))],
          ['total lag', (g) => fmtNum(g.total ?? 0)],
          ['max lag', (g) => fmtNum(g.maxLag ?? 0)],
          ['max lag (s)', (g) => fmtNum(g.maxLagSeconds ?? 0, 1)],
          ['partitions', (g) => (g.partitions ?? []).length],
          ['state', (g) => described.get(g.groupId)?.state ?? ''],
          ['members', (g) => described.get(g.groupId)?.members ?? 0],
          ['window full', (g) => `${Math.round(100 * (g.complete ?? 0))}%`],
        ],
        rows,
        { empty: 'No consumer groups seen yet.', rowAttrs: (g) => ({ dataset: { group: g.groupId } }) },
      ),
    );
    const top = rows
      .slice()
      .sort((a, b) => Number(b.total ?? 0) - Number(a.total ?? 0))
      .slice(0, 8)
      .map((g) => g.groupId)
      .sort();
    chart.set(align(top.map((g) => history.get(g) ?? [])), top);
  };

  live(
    [
      { id: 'lag', method: 'monitor/WatchConsumerLag', request: {} },
      { id: 'groups', method: 'monitor/ListConsumerGroups', request: {} },
    ],
    {
      lag(g) {
        if (g.error) return Object.assign(error, { hidden: false, textContent: errorText(g) });
        error.hidden = true;
        lags.set(g.groupId, g);
        const t = Date.parse(g.evaluatedAt ?? new Date().toISOString()) / 1000;
        const pts = history.get(g.groupId) ?? [];
        if (!pts.length || pts[pts.length - 1][0] < t) pts.push([t, Number(g.total ?? 0)]);
        history.set(g.groupId, pts.slice(-KEEP_POINTS));
        draw();
      },
      groups(res) {
        if (res.error) return Object.assign(error, { hidden: false, textContent: errorText(res) });
        for (const g of res.groups ?? []) described.set(g.groupId, g);
        draw();
      },
    },
  );
}

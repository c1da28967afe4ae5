// Overview: every service's health, messages per second per topic (with its chart), total lag,
// DLQ depths, jobs by status and the stock runs not complete yet, from Monitor/GetOverview.
import { live } from '../api.js';
import { align, timeChart } from '../chart.js';
import { badge, enumName, errorText, figure, fill, fmtNum, h, section, table } from '../ui.js';

const KEEP_POINTS = 300;

export function render(main) {
  const health = h('div', { id: 'health' });
  const figures = h('div', { class: 'figures', id: 'figures' });
  const jobs = h('div', { id: 'jobs-by-status' });
  const dlq = h('div', { id: 'dlq-depths' });
  const topics = h('div', { id: 'topics' });
  const rateChart = h('div', { class: 'chart', id: 'rate-chart' });
  const error = h('p', { class: 'notice error', hidden: true });
  fill(
    main,
    h('h1', {}, 'Overview'),
    error,
    figures,
    section('Services', health),
    section('Jobs by status', jobs),
    section('Messages per second', rateChart, topics),
    section('Dead-letter topics', dlq),
  );
  const chart = timeChart(rateChart, { labels: [], yLabel: 'messages/s' });
  const history = new Map(); // topic -> [[t, rate]]

  live([{ id: 'overview', method: 'monitor/GetOverview', request: {} }], {
    overview(o) {
      if (o.error) return Object.assign(error, { hidden: false, textContent: errorText(o) });
      error.hidden = true;
      const stockRuns = o.activeStockRuns;
      fill(
        figures,
        figure('Total lag', fmtNum(o.totalLag ?? 0), 'total-lag', '/groups'),
        figure('Dead letters waiting', fmtNum(Object.values(o.dlqDepths ?? {}).reduce((a, b) => a + Number(b), 0)), 'dlq-total', '/dead-letters'),
        figure('Active stock runs', stockRuns === undefined ? '—' : fmtNum(stockRuns), 'active-stock-runs', '/stocks'),
        figure('Services serving', `${(o.services ?? []).filter((s) => s.state === 'HEALTH_STATE_SERVING').length} of ${(o.services ?? []).length}`, 'services-serving'),
      );
      fill(
        health,
        table(
          [
            ['service', (s) => s.service],
            ['state', (s) => badge(enumName(s.state, 'HEALTH_STATE_'))],
            ['replicas serving', (s) => `${s.serving ?? 0} of ${s.replicas ?? 0}`],
            ['replicas', (s) => (s.replicaHealth ?? []).map((r) => `${r.address} ${r.status}${r.error ? ` (${r.error})` : ''}`).join(', ')],
          ],
          o.services ?? [],
          { empty: 'No services in MONITOR_SERVICES.' },
        ),
      );
      const byStatus = Object.entries(o.jobsByStatus ?? {});
      fill(jobs, o.jobsError ? h('p', { class: 'notice error' }, `The scheduler could not be asked: ${o.jobsError}`) : byStatus.length ? h('p', { class: 'statuses' }, byStatus.map(([s, n]) => h('a', { href: `/jobs?status=JOB_STATUS_${s}` }, badge(s), ` ${fmtNum(n)} `))) : h('p', { class: 'empty' }, 'No jobs yet.'));
      const rates = (o.topics ?? []).slice().sort((a, b) => (b.messagesPerSecond ?? 0) - (a.messagesPerSecond ?? 0));
      fill(
        topics,
        table(
          [
            ['topic', (t) => t.topic],
            ['messages/s', (t) => fmtNum(t.messagesPerSecond ?? 0, 1)],
            ['log-end offset (sum)', (t) => fmtNum(t.endOffset ?? 0)],
            ['partitions', (t) => t.partitions ?? 0],
          ],
          rates,
        ),
      );
      fill(
        dlq,
        table(
          [
            ['DLQ topic', ([t]) => h('a', { href: `/dead-letters?dlqTopic=${encodeURIComponent(t)}` }, t)],
            ['messages in the topic', ([, n]) => fmtNum(n)],
          ],
          Object.entries(o.dlqDepths ?? {}),
        ),
      );
      const t = Date.parse(o.generatedAt ?? new Date().toISOString()) / 1000;
      for (const r of o.topics ?? []) {
        const pts = history.get(r.topic) ?? [];
        if (!pts.length || pts[pts.length - 1][0] < t) pts.push([t, r.messagesPerSecond ?? 0]);
        history.set(r.topic, pts.slice(-KEEP_POINTS));
      }
      // The busiest topics now, at most eight lines.
      const shown = rates.slice(0, 8).map((r) => r.topic);
      chart.set(align(shown.map((topic) => history.get(topic) ?? [])), shown);
    },
  });
}

// Dead letters: each DLQ topic's depth and dead letters over time (GetDlqCounts); the dead
// letters themselves with filters (ListDeadLetters), each inspected with its key, headers and
// payload; and a replay of one or a selection (ReplayDeadLetters), confirmed first, each
// outcome said in words.
import { act, live } from '../api.js';
import { align, timeChart } from '../chart.js';
import { badge, confirmAction, enumName, errorText, fill, fmtNum, fmtTime, h, notice, section, table } from '../ui.js';

const OUTCOMES = {
  REPLAY_OUTCOME_SENT: (r) => `sent to ${r.targetTopic} (partition ${r.targetPartition ?? 0}, offset ${r.targetOffset ?? 0})`,
  REPLAY_OUTCOME_ALREADY_REPLAYED: () => 'not sent: it was replayed before (tick "even if replayed before" to send it again)',
  REPLAY_OUTCOME_NO_TARGET: () => 'not sent: it names no original topic',
  REPLAY_OUTCOME_NO_PAYLOAD: () => 'not sent: its payload was too large for the DLQ and was not kept',
  REPLAY_OUTCOME_NOT_FOUND: () => 'not sent: there is no such dead letter any more',
  REPLAY_OUTCOME_FAILED: (r) => `not sent: Kafka refused it (${r.detail ?? ''}); the replay stopped there`,
};

const keyOf = (d) => `${d.dlqTopic}/${d.partition ?? 0}/${d.offset ?? 0}`;

export function render(main) {
  const params = new URLSearchParams(location.search);
  const filter = { dlqTopic: params.get('dlqTopic') ?? '', originalTopic: params.get('originalTopic') ?? '', errorContains: params.get('errorContains') ?? '' };
  const counts = h('div', { id: 'dlq-counts' });
  const chartBox = h('div', { class: 'chart', id: 'dlq-chart' });
  const list = h('div', { id: 'dead-letters' });
  const inspect = h('div', { id: 'inspect', class: 'inspect' });
  const outcome = h('div', { id: 'replay-outcome', class: 'notice', hidden: true });
  const error = h('p', { class: 'notice error', hidden: true });
  const topicSelect = h('select', { name: 'dlqTopic', id: 'dlq-topic' }, h('option', { value: '' }, 'every DLQ'));
  const form = h(
    'form',
    { class: 'filters', id: 'dlq-filters', method: 'get', action: '/dead-letters' },
    h('label', {}, 'DLQ ', topicSelect),
    h('label', {}, 'Original topic ', h('input', { name: 'originalTopic', value: filter.originalTopic, placeholder: 'any' })),
    h('label', {}, 'Error contains ', h('input', { name: 'errorContains', id: 'error-contains', value: filter.errorContains, placeholder: 'any text' })),
    h('button', { type: 'submit' }, 'Filter'),
  );
  const selected = new Map();
  const force = h('input', { type: 'checkbox', id: 'replay-force' });
  const replayButton = h('button', { id: 'replay-selected', class: 'danger', disabled: true, onclick: () => replay([...selected.values()]) }, 'Replay selected');
  fill(
    main,
    h('h1', {}, 'Dead letters'),
    error,
    section('DLQ topics', counts, chartBox),
    section('Browse', form, h('p', { class: 'actions' }, replayButton, ' ', h('label', {}, force, ' even if replayed before')), outcome, list),
    inspect,
  );
  const chart = timeChart(chartBox, { labels: [], kind: 'line', yLabel: 'dead letters / 5 min' });

  const updateButton = () => {
    replayButton.disabled = selected.size === 0;
    replayButton.textContent = selected.size ? `Replay selected (${selected.size})` : 'Replay selected';
  };

  async function replay(letters) {
    if (!letters.length) return;
    const question = letters.length === 1 ? `Send the dead letter ${keyOf(letters[0])} again to ${letters[0].originalTopic || 'its original topic'}?` : `Send these ${letters.length} dead letters again to their original topics?`;
    if (!(await confirmAction(question, 'Yes, replay'))) return notice(outcome, 'info', 'Nothing was sent.');
    const byTopic = new Map();
    for (const d of letters) byTopic.set(d.dlqTopic, [...(byTopic.get(d.dlqTopic) ?? []), { partition: d.partition ?? 0, offset: d.offset ?? 0 }]);
    const lines = [];
    let failed = false;
    for (const [dlqTopic, messages] of byTopic) {
      try {
        const res = await act('monitor/ReplayDeadLetters', { dlqTopic, messages, force: force.checked });
        for (const r of res.results ?? []) lines.push(`${dlqTopic}/${r.partition ?? 0}/${r.offset ?? 0}: ${(OUTCOMES[r.outcome] ?? (() => enumName(r.outcome, 'REPLAY_OUTCOME_')))(r)}`);
      } catch (err) {
        failed = true;
        lines.push(`${dlqTopic}: ${err.message}`);
      }
    }
    notice(outcome, failed ? 'error' : 'ok', '');
    fill(outcome, h('ul', {}, lines.map((l) => h('li', {}, l))));
    selected.clear();
    updateButton();
  }

  const show = (d) => {
    const payload = d.json !== undefined ? JSON.stringify(d.json, null, 2) : d.raw !== undefined ? `${d.raw} (base64)` : `(no payload${d.size ? `: ${d.size} bytes were too many for the DLQ` : ''})`;
    fill(
      inspect,
      h('h2', {}, 'Dead letter ', h('span', { class: 'mono' }, keyOf(d))),
      h(
        'table',
        { class: 'fields' },
        h(
          'tbody',
          {},
          [
            ['dead-lettered', fmtTime(d.deadLetteredAt)],
            ['from', `${d.originalTopic ?? '—'} partition ${d.originalPartition ?? 0} offset ${d.originalOffset ?? 0}`],
            ['error', d.errorMessage ?? ''],
            ['error time', fmtTime(d.errorTime)],
            ['attempts', String(d.attempts ?? 0)],
            ['key', d.keyText ?? d.key ?? ''],
            ['encoding', enumName(d.encoding, 'PAYLOAD_ENCODING_')],
            ['size', `${fmtNum(d.size ?? 0)} bytes`],
            ['replay', d.replay ? `${d.replay.state} to ${d.replay.targetTopic} (${d.replay.times ?? 1} time(s), ${fmtTime(d.replay.replayedAt)})${d.replay.error ? `: ${d.replay.error}` : ''}` : 'never replayed'],
          ].map(([k, v]) => h('tr', {}, h('th', {}, k), h('td', {}, v))),
        ),
      ),
      h('h3', {}, 'Headers'),
      table(
        [
          ['name', (x) => x.name],
          ['value', (x) => (x.binary ? `${x.value} (base64)` : x.value)],
        ],
        d.headers ?? [],
        { empty: 'no headers' },
      ),
      h('h3', {}, 'Payload'),
      h('pre', { id: 'payload' }, payload),
      h('p', {}, h('button', { id: 'replay-one', class: 'danger', onclick: () => replay([d]) }, 'Replay this one')),
    );
    inspect.scrollIntoView({ block: 'nearest' });
  };

  const request = Object.fromEntries(Object.entries({ ...filter, pageSize: 100 }).filter(([, v]) => v !== ''));
  const since = new Date(Date.now() - 6 * 3600_000).toISOString();
  live(
    [
      { id: 'counts', method: 'monitor/GetDlqCounts', request: { bucket: '5m', since } },
      { id: 'letters', method: 'monitor/ListDeadLetters', request },
    ],
    {
      counts(c) {
        if (c.error) return Object.assign(error, { hidden: false, textContent: errorText(c) });
        error.hidden = true;
        const topics = c.topics ?? [];
        if (topicSelect.options.length !== topics.length + 1) {
          fill(topicSelect, h('option', { value: '' }, 'every DLQ'), topics.map((t) => h('option', { value: t.topic, selected: t.topic === filter.dlqTopic }, t.topic)));
        }
        fill(
          counts,
          table(
            [
              ['DLQ topic', (t) => h('a', { href: `/dead-letters?dlqTopic=${encodeURIComponent(t.topic)}` }, t.topic)],
              ['in the topic', (t) => fmtNum(t.depth ?? 0)],
              ['held by the monitor', (t) => fmtNum(t.count ?? 0)],
              ['most frequent error', (t) => (t.byError?.[0] ? `${t.byError[0].errorMessage} (${fmtNum(t.byError[0].count)})` : '')],
            ],
            topics,
          ),
        );
        const shown = topics.filter((t) => Number(t.count ?? 0) > 0);
        chart.set(
          align(shown.map((t) => (t.overTime ?? []).map((b) => [Date.parse(b.start) / 1000, Number(b.count ?? 0)]))),
          shown.map((t) => t.topic),
        );
      },
      letters(res) {
        if (res.error) return fill(list, h('p', { class: 'notice error' }, errorText(res)));
        const letters = res.deadLetters ?? [];
        fill(
          list,
          table(
            [
              [
                '',
                (d) =>
                  h('input', {
                    type: 'checkbox',
                    class: 'pick',
                    checked: selected.has(keyOf(d)),
                    'aria-label': `select ${keyOf(d)}`,
                    onchange: (e) => {
                      if (e.target.checked) selected.set(keyOf(d), d);
                      else selected.delete(keyOf(d));
                      updateButton();
                    },
                  }),
              ],
              ['dead letter', (d) => h('button', { class: 'link mono', onclick: () => show(d) }, keyOf(d))],
              ['when', (d) => fmtTime(d.deadLetteredAt)],
              ['from', (d) => d.originalTopic ?? ''],
              ['error', (d) => d.errorMessage ?? ''],
              ['key', (d) => d.keyText ?? ''],
              ['replayed', (d) => (d.replay ? badge(d.replay.state) : '')],
            ],
            letters,
            { empty: 'No dead letters match.', rowAttrs: (d) => ({ dataset: { key: keyOf(d), requestId: d.json?.requestId ?? '' } }) },
          ),
          res.nextPageToken ? h('p', { class: 'pager' }, 'Showing the newest 100: narrow the filter to see older ones.') : '',
        );
      },
    },
  );
}

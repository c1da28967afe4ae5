// The screener of one run: the stock processor's ListRatios of that run, narrowed by region,
// sector and a bound on a ratio, sorted by any ratio, a page at a time.
import { read } from '../api.js';
import { fill, fmtNum, h, table } from '../ui.js';

const FIELDS = [
  ['MARKET_CAP_USD', 'market cap (USD)', 'marketCapUsd'],
  ['PE', 'P/E', 'peRatio'],
  ['PB', 'P/B', 'pbRatio'],
  ['PS', 'P/S', 'psRatio'],
  ['EV_EBITDA', 'EV/EBITDA', 'evEbitda'],
  ['DEBT_TO_EQUITY', 'debt/equity', 'debtToEquity'],
  ['ROE', 'ROE', 'roe', 'percent'],
  ['CURRENT_RATIO', 'current ratio', 'currentRatio'],
  ['DIVIDEND_YIELD', 'dividend yield', 'dividendYield', 'percent'],
];

/** A figure of the screener: market caps whole, fractions (ROE, dividend yield) as percents, ratios to 3 places. */
function shown(value, key, kind) {
  if (value === undefined || value === null) return '—';
  if (kind === 'percent') return `${fmtNum(100 * Number(value), 2)}%`;
  return fmtNum(value, key === 'marketCapUsd' ? 0 : 3);
}

export async function render(main, runId) {
  const params = new URLSearchParams(location.search);
  const q = { region: params.get('region') ?? '', sector: params.get('sector') ?? '', orderBy: params.get('orderBy') ?? 'MARKET_CAP_USD', descending: params.has('orderBy') ? (params.get('descending') ?? 'false') : 'true', pageToken: params.get('pageToken') ?? '' };
  const form = h(
    'form',
    { class: 'filters', method: 'get' },
    h('label', {}, 'Region ', h('input', { name: 'region', value: q.region, placeholder: 'any' })),
    h('label', {}, 'Sector ', h('input', { name: 'sector', value: q.sector, placeholder: 'any' })),
    h('label', {}, 'Sort by ', h('select', { name: 'orderBy' }, FIELDS.map(([f, label]) => h('option', { value: f, selected: q.orderBy === f }, label)))),
    h('label', {}, 'Largest first ', h('input', { type: 'checkbox', name: 'descending', value: 'true', checked: q.descending === 'true' })),
    h('button', { type: 'submit' }, 'Show'),
  );
  const list = h('div', { id: 'ratios' });
  const more = h('p', { class: 'pager' });
  fill(main, h('p', {}, h('a', { href: `/stocks/${encodeURIComponent(runId)}` }, '← the run')), h('h1', {}, 'Screener of ', h('span', { class: 'mono' }, runId)), form, list, more);
  try {
    const res = await read('stock-processor/ListRatios', { runId, region: q.region, sector: q.sector, orderBy: `RATIO_FIELD_${q.orderBy}`, descending: q.descending === 'true', pageSize: 50, pageToken: q.pageToken });
    fill(
      list,
      table(
        [
          ['symbol', (r) => h('span', { class: 'mono' }, r.symbol)],
          ['name', (r) => r.name ?? ''],
          ['region', (r) => r.region ?? ''],
          ['sector', (r) => r.sector ?? ''],
          ['price', (r) => `${fmtNum(r.price, 2)} ${r.currency ?? ''}`],
          ...FIELDS.map(([, label, key, kind]) => [label, (r) => shown(r[key], key, kind)]),
        ],
        res.ratios ?? [],
        { empty: 'No symbols stored for this run (yet).' },
      ),
    );
    const next = new URLSearchParams(location.search);
    next.set('pageToken', res.nextPageToken ?? '');
    fill(more, res.nextPageToken ? h('a', { href: `?${next}` }, 'next page') : '');
  } catch (err) {
    fill(list, h('p', { class: 'notice error' }, err.message));
  }
}

// Orders: the running aggregate of every product, live from OrderAggregator/WatchAggregates,
// the overall one, and a chart of one product's windowed totals (ListWindows).
import { live } from '../api.js';
import { timeChart } from '../chart.js';
import { errorText, figure, fill, fmtNum, fmtTime, h, section, table } from '../ui.js';

export function render(main) {
  const params = new URLSearchParams(location.search);
  const windowSize = params.get('window') ?? '1m';
  let product = params.get('product') ?? '';
  const overall = h('div', { class: 'figures', id: 'overall' });
  const list = h('div', { id: 'aggregates' });
  const chartBox = h('div', { class: 'chart', id: 'windows-chart' });
  const chartTitle = h('h2', {}, 'Windowed totals');
  const error = h('p', { class: 'notice error', hidden: true });
  const picker = h('form', { class: 'filters', method: 'get' }, h('label', {}, 'Product ', h('select', { name: 'product', id: 'product' })), h('label', {}, 'Window ', h('input', { name: 'window', value: windowSize, size: 4 })), h('button', { type: 'submit' }, 'Show'));
  fill(main, h('h1', {}, 'Orders'), error, overall, h('section', {}, chartTitle, picker, chartBox), section('Per product', list));
  const chart = timeChart(chartBox, { labels: ['total'], kind: 'bars', yLabel: 'total', padSeconds: 30 * seconds(windowSize) });
  const products = new Map();
  let total;
  let stop;
  const drawOverall = () =>
    total &&
    fill(overall, figure('Total', total.total ?? '0', 'orders-total'), figure('Orders', fmtNum(total.count ?? 0), 'orders-count'), figure('Average', total.average ?? '0'), figure('Products', fmtNum(products.size), 'orders-products'));

  const draw = () => {
    const rows = [...products.values()].sort((a, b) => Number(b.total ?? 0) - Number(a.total ?? 0));
    fill(
      list,
      table(
        [
          ['product', (a) => h('a', { href: `/orders?product=${encodeURIComponent(a.product)}&window=${encodeURIComponent(windowSize)}` }, a.product)],
          ['total', (a) => a.total ?? '0'],
          ['orders', (a) => fmtNum(a.count ?? 0)],
          ['average', (a) => a.average ?? '0'],
          ['min', (a) => a.min ?? ''],
          ['max', (a) => a.max ?? ''],
          ['quantity', (a) => fmtNum(a.quantity ?? 0)],
          ['last order', (a) => fmtTime(a.lastOrderTime)],
        ],
        rows,
        { empty: 'No orders counted yet: try npm run orders-demo.', rowAttrs: (a) => ({ dataset: { product: a.product } }) },
      ),
    );
    const select = document.getElementById('product');
    const names = rows.map((a) => a.product).sort();
    if (select.options.length !== names.length) fill(select, names.map((n) => h('option', { value: n, selected: n === product }, n)));
    if (!product && names.length) {
      product = names[0];
      follow();
    }
  };

  const handlers = {
    aggregates(a) {
      if (a.error) return Object.assign(error, { hidden: false, textContent: errorText(a) });
      error.hidden = true;
      if (!a.product) return;
      products.set(a.product, a);
      draw();
      drawOverall();
    },
    overall(a) {
      if (a.error) return Object.assign(error, { hidden: false, textContent: errorText(a) });
      total = a;
      drawOverall();
    },
    windows(res) {
      if (res.error) return Object.assign(error, { hidden: false, textContent: errorText(res) });
      const ws = res.windows ?? [];
      chart.set([ws.map((w) => Date.parse(w.startTime) / 1000), ws.map((w) => Number(w.total ?? 0))]);
    },
  };
  // One event stream for the page (a browser holds only six connections to a host); opened again
  // with the windows of a product once one is chosen.
  const follow = () => {
    stop?.();
    if (product) chartTitle.textContent = `Windowed totals of ${product} (${windowSize} windows, last 24 hours)`;
    stop = live(
      [
        { id: 'aggregates', method: 'order-aggregator/WatchAggregates', request: {} },
        { id: 'overall', method: 'order-aggregator/GetAggregate', request: {} },
        ...(product ? [{ id: 'windows', method: 'order-aggregator/ListWindows', request: { product, windowSize, pageSize: 1000 } }] : []),
      ],
      handlers,
    );
  };
  follow();
}

/** A window size such as 1m, 1h or 30s in seconds (60 when it cannot be read). */
function seconds(size) {
  const m = /^(\d+)(s|m|h|d)$/.exec(size);
  return m ? Number(m[1]) * { s: 1, m: 60, h: 3600, d: 86400 }[m[2]] : 60;
}

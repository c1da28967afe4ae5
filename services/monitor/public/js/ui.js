// Small helpers of the pages: elements (text always set as text), tables, progress bars, the
// confirmation dialog, notices and formatting.

/** An element: attrs are properties (class, href, ...) or on<event> handlers; children are nodes or text. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k in el && typeof v !== 'string') el[k] = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== undefined && c !== null && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}

/** Replaces the children of el. */
export function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return el;
}

/** A table of rows; columns are [heading, row => cell content]. */
export function table(columns, rows, { empty = 'none', rowAttrs } = {}) {
  if (!rows.length) return h('p', { class: 'empty' }, empty);
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, columns.map(([title]) => h('th', {}, title)))),
    h(
      'tbody',
      {},
      rows.map((r) => h('tr', rowAttrs ? rowAttrs(r) : {}, columns.map(([, cell]) => h('td', {}, cell(r))))),
    ),
  );
}

/** A progress bar (0 to 100) with its figure as text. */
export function progress(percent, label = '') {
  const p = Math.max(0, Math.min(100, Number(percent ?? 0)));
  const fillEl = h('span', { class: 'fill' });
  fillEl.style.width = `${p}%`;
  return h(
    'span',
    { class: `bar${p >= 100 ? ' done' : ''}`, role: 'progressbar', 'aria-valuemin': '0', 'aria-valuemax': '100', 'aria-valuenow': String(Math.round(p * 100) / 100), 'aria-label': label || 'progress' },
    fillEl,
    h('span', { class: 'figure' }, `${p.toFixed(p >= 100 || p === 0 ? 0 : 1)}%`),
  );
}

/** Asks before a change of state; resolves true when the user says yes. */
export function confirmAction(question, yes = 'Yes') {
  const dialog = document.getElementById('confirm');
  document.getElementById('confirm-question').textContent = question;
  document.getElementById('confirm-yes').textContent = yes;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'yes'), { once: true }));
}

/** A message in a notice element: kind ok, error or info. */
export function notice(el, kind, text) {
  el.hidden = false;
  el.className = `notice ${kind}`;
  el.textContent = text;
}

const num = new Intl.NumberFormat('en');
export const fmtNum = (n, digits = 0) => (n === undefined || n === null || Number.isNaN(Number(n)) ? '—' : num.format(Number(Number(n).toFixed(digits))));
export const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString('en-GB', { hour12: false }) : '—');
export const fmtMs = (ms) => (ms === undefined || ms === null ? '—' : Number(ms) < 1000 ? `${Number(ms)} ms` : `${(Number(ms) / 1000).toFixed(1)} s`);
/** An enum value without its prefix: JOB_STATUS_DONE → DONE. */
export const enumName = (v, prefix) => (v ? String(v).replace(prefix, '') : '—');

export function badge(text) {
  return h('span', { class: `badge s-${String(text).toLowerCase()}` }, text);
}

/** A figure in a box: its label, its value (with an id to find it by, and a link when href is given). */
export function figure(label, value, id, href) {
  const v = h('span', { class: 'value', id }, value);
  return h('div', { class: 'figure' }, h('span', { class: 'label' }, label), href ? h('a', { href }, v) : v);
}

/** A page's heading and a box for its errors. */
export function section(title, ...body) {
  return h('section', {}, h('h2', {}, title), ...body);
}

/** What a failed live answer or read says. */
export function errorText(err) {
  return err?.error?.message ?? err?.message ?? String(err);
}

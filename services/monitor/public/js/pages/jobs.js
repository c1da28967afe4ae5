// Jobs: the scheduler's ListJobs with its filters (app, status, scheduled time), live, a page at
// a time; each job links to its own page.
import { live } from '../api.js';
import { badge, enumName, errorText, fill, fmtTime, h, table } from '../ui.js';

const STATUSES = ['NEW', 'SCHEDULED', 'RUNNING', 'DONE', 'FAILED', 'DEAD', 'CANCELLED', 'PAUSED'];

export function render(main) {
  const params = new URLSearchParams(location.search);
  const filter = {
    appName: params.get('appName') ?? '',
    status: params.get('status') ?? '',
    scheduledFrom: params.get('scheduledFrom') ?? '',
    scheduledTo: params.get('scheduledTo') ?? '',
    pageSize: Number(params.get('pageSize') ?? 50),
    pageToken: params.get('pageToken') ?? '',
  };
  const list = h('div', { id: 'jobs' });
  const error = h('p', { class: 'notice error', hidden: true });
  const more = h('p', { class: 'pager' });
  const form = h(
    'form',
    { class: 'filters', id: 'job-filters', method: 'get', action: '/jobs' },
    h('label', {}, 'App ', h('input', { name: 'appName', value: filter.appName, placeholder: 'any' })),
    h(
      'label',
      {},
      'Status ',
      h(
        'select',
        { name: 'status' },
        h('option', { value: '' }, 'any'),
        STATUSES.map((s) => h('option', { value: `JOB_STATUS_${s}`, selected: filter.status === `JOB_STATUS_${s}` }, s)),
      ),
    ),
    h('label', {}, 'Scheduled from ', h('input', { name: 'scheduledFrom', type: 'datetime-local', value: local(filter.scheduledFrom) })),
    h('label', {}, 'to ', h('input', { name: 'scheduledTo', type: 'datetime-local', value: local(filter.scheduledTo) })),
    h('button', { type: 'submit' }, 'Filter'),
  );
  // Times are sent as the instants the local times name.
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = new URLSearchParams();
    for (const [k, v] of new FormData(form)) if (v) q.set(k, k.startsWith('scheduled') ? new Date(String(v)).toISOString() : String(v));
    location.assign(`/jobs${q.size ? `?${q}` : ''}`);
  });
  fill(main, h('h1', {}, 'Jobs'), form, error, list, more);

  const request = Object.fromEntries(Object.entries(filter).filter(([, v]) => v !== '' && v !== undefined));
  live([{ id: 'jobs', method: 'scheduler/ListJobs', request }], {
    jobs(res) {
      if (res.error) return Object.assign(error, { hidden: false, textContent: errorText(res) });
      error.hidden = true;
      fill(
        list,
        table(
          [
            ['job', (j) => h('a', { href: `/jobs/${encodeURIComponent(j.jobId)}`, class: 'mono' }, j.jobId)],
            ['app', (j) => j.appName],
            ['status', (j) => badge(enumName(j.status, 'JOB_STATUS_'))],
            ['scheduled', (j) => fmtTime(j.scheduledTime)],
            ['schedule', (j) => j.schedule ?? ''],
            ['runs', (j) => j.runs ?? 0],
            ['attempts', (j) => j.attempts ?? 0],
            ['last error', (j) => j.lastError ?? ''],
          ],
          res.jobs ?? [],
          { empty: 'No jobs match.', rowAttrs: (j) => ({ dataset: { jobId: j.jobId, requestId: j.requestId ?? '', status: enumName(j.status, 'JOB_STATUS_') } }) },
        ),
      );
      const next = new URLSearchParams(location.search);
      next.set('pageToken', res.nextPageToken ?? '');
      fill(more, filter.pageToken ? h('a', { href: '/jobs' }, 'first page') : '', ' ', res.nextPageToken ? h('a', { href: `/jobs?${next}` }, 'next page') : '');
    },
  });
}

/** An ISO instant as a datetime-local value. */
function local(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

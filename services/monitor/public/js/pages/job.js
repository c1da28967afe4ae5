// One job (by job id or the request id it was submitted with): its fields and runs, live, and
// Cancel, Pause, Resume and Trigger now, each confirmed first and its outcome said in words.
import { act, live, read } from '../api.js';
import { badge, confirmAction, enumName, errorText, fill, fmtTime, h, notice, table } from '../ui.js';

const ACTIONS = [
  ['cancel', 'Cancel', 'scheduler/CancelJob', 'Cancel this job? It will not run again.', 'Yes, cancel it', 'Cancelled'],
  ['pause', 'Pause', 'scheduler/PauseJob', 'Pause this job? Its occurrences are not fired until it is resumed.', 'Yes, pause it', 'Paused'],
  ['resume', 'Resume', 'scheduler/ResumeJob', 'Resume this job? Its next occurrence is fired at its time.', 'Yes, resume it', 'Resumed'],
  ['trigger', 'Trigger now', 'scheduler/TriggerNow', 'Run this job now, once, besides its schedule?', 'Yes, run it now', 'Triggered'],
];

export async function render(main, id) {
  const error = h('p', { class: 'notice error', hidden: true });
  const outcome = h('p', { class: 'notice', id: 'action-outcome', hidden: true });
  const details = h('div', { id: 'job' });
  const runs = h('div', { id: 'runs' });
  const title = h('h1', {}, 'Job ', h('span', { class: 'mono' }, id));
  fill(main, h('p', {}, h('a', { href: '/jobs' }, '← Jobs')), title, error, h('p', { class: 'loading' }, 'Looking the job up…'));

  // The job id the runs are asked by (the page may name the request id).
  let job;
  for (;;) {
    try {
      job = await read('scheduler/GetJob', { jobId: id });
      break;
    } catch (err) {
      notice(error, 'error', err.code === 5 ? `No job ${id} yet: it may not be stored yet. Asking again…` : err.message);
      await new Promise((r) => setTimeout(r, 2000));
    }
  }
  error.hidden = true;
  const jobId = job.jobId;
  const buttons = h(
    'p',
    { class: 'actions' },
    ACTIONS.map(([key, label, method, question, yes, done]) =>
      h(
        'button',
        {
          id: `job-${key}`,
          class: key === 'cancel' ? 'danger' : '',
          onclick: async () => {
            if (!(await confirmAction(question, yes))) return notice(outcome, 'info', 'Nothing was changed.');
            try {
              const j = await act(method, { jobId });
              notice(outcome, 'ok', `${done}: the job is now ${enumName(j.status, 'JOB_STATUS_')}.`);
            } catch (err) {
              notice(outcome, 'error', err.message);
            }
          },
        },
        label,
      ),
    ),
  );
  fill(main, h('p', {}, h('a', { href: '/jobs' }, '← Jobs')), title, error, buttons, outcome, details, h('h2', {}, 'Runs'), runs);

  live(
    [
      { id: 'job', method: 'scheduler/GetJob', request: { jobId } },
      { id: 'runs', method: 'scheduler/ListRuns', request: { jobId, pageSize: 100 } },
    ],
    {
      job(j) {
        if (j.error) return notice(error, 'error', errorText(j));
        error.hidden = true;
        const rows = [
          ['status', badge(enumName(j.status, 'JOB_STATUS_'))],
          ['job id', j.jobId],
          ['request id', j.requestId ?? ''],
          ['app', j.appName],
          ['priority', j.priority ?? ''],
          ['schedule', j.schedule || 'one-shot'],
          ['scheduled', fmtTime(j.scheduledTime)],
          ['next fire', fmtTime(j.nextFireAt)],
          ['created', fmtTime(j.createdAt)],
          ['fired', fmtTime(j.firedAt)],
          ['started', fmtTime(j.startedAt)],
          ['finished', fmtTime(j.finishedAt)],
          ['runs', String(j.runs ?? 0)],
          ['attempts', String(j.attempts ?? 0)],
          ['skipped', String(j.skipped ?? 0)],
          ['last error', j.lastError ?? ''],
          ['idempotency key', j.idempotencyKey ?? ''],
          ['trace id', j.traceId ?? ''],
          ['job data', h('pre', {}, JSON.stringify(j.jobData ?? {}, null, 2))],
        ];
        fill(details, h('table', { class: 'fields' }, h('tbody', {}, rows.map(([k, v]) => h('tr', { dataset: { field: k } }, h('th', {}, k), h('td', {}, v))))));
        details.dataset.status = enumName(j.status, 'JOB_STATUS_');
      },
      runs(r) {
        if (r.error) return fill(runs, h('p', { class: 'notice error' }, errorText(r)));
        fill(
          runs,
          table(
            [
              ['run', (x) => h('span', { class: 'mono' }, x.runId)],
              ['status', (x) => badge(enumName(x.status, 'JOB_STATUS_'))],
              ['attempt', (x) => x.attempt ?? 0],
              ['due', (x) => fmtTime(x.dueAt)],
              ['fired', (x) => fmtTime(x.firedAt)],
              ['started', (x) => fmtTime(x.startedAt)],
              ['finished', (x) => fmtTime(x.finishedAt)],
              ['error', (x) => x.error ?? ''],
            ],
            r.runs ?? [],
            { empty: 'No runs yet.' },
          ),
        );
      },
    },
  );
}

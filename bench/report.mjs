// bench/results/latest.md from the results of bench/run.mjs: the machine, scenarios (a) to (d)
// and (e) the same-run comparison, each section present when its results are.
import { INGEST_BATCH, INGEST_CONCURRENCY } from './lib.mjs';

const ms = (s) => (s.n ? `${s.p50} / ${s.p99} / ${s.max}` : 'n/a');

function header(r) {
  return [
    '# Scheduler benchmark',
    '',
    `Run ${r.date} by \`npm run bench\` (commit ${r.machine.commit}).`,
    '',
    '## Machine',
    '',
    '| | |',
    '|---|---|',
    `| CPU | ${r.machine.cpuModel}, ${r.machine.cores} cores |`,
    `| memory | ${r.machine.memoryGiB} GiB |`,
    `| Node.js | ${r.machine.node} |`,
    `| Java | ${r.machine.java} |`,
    `| Kafka | ${r.machine.kafka} |`,
    `| PostgreSQL | ${r.machine.postgres} |`,
    ...(r.loadStart ? [`| load average (1 min) at start / end | ${r.loadStart} / ${r.loadEnd} |`] : []),
    '',
    'Everything (broker, database, every service replica and this script) shares these cores, and',
    'other work on the machine during the run shows in the load average: read the figures as this',
    'machine on this day, and the ratios (measured in the same run) as the more telling part.',
    '',
  ];
}

function scenarios(r) {
  const lines = [
    '## (a) Ingest: ScheduleJobs -> stored',
    '',
    `${r.sizes.ingest} jobs due tomorrow, ScheduleJobs calls of ${INGEST_BATCH} jobs, ${INGEST_CONCURRENCY} calls at a time.`,
    'Accepted: the calls returned (each job acknowledged by Kafka, acks=all). Stored: every job in scheduler.jobs.',
    '',
    '| schedulers | accepted jobs/s | stored jobs/s | all stored after |',
    '|---|---|---|---|',
    ...r.scaling.map((s) => `| ${s.replicas} | ${s.ingest.acceptedPerSec} | ${s.ingest.storedPerSec} | ${s.ingest.storedMs} ms |`),
    '',
    `3 vs 1 scheduler, stored jobs/s: **${r.ratios.ingestStored3vs1}x**.`,
    '',
    '## (b) Firing: jobs due at one instant',
    '',
    `${r.sizes.fire} jobs due at the same instant, stored before it; no executor running. Lateness is`,
    'runs.fired_at - runs.due_at (fired_at is taken when a firing transaction has claimed its batch,',
    'before publishing it). Fire throughput is jobs / (time from the due instant until every run row',
    'is committed, polled every 50 ms), so it includes publishing each batch to jobs.due (acks=all).',
    '',
    '| schedulers | stored before due | fired jobs/s | all fired after due | lateness p50 / p99 / max (ms) |',
    '|---|---|---|---|---|',
    ...r.scaling.map((s) => `| ${s.replicas} | ${s.fire.storedBeforeDue ? 'yes' : 'no'} | ${s.fire.firedPerSec} | ${s.fire.allFiredAfterDueMs} ms | ${ms(s.fire.latenessMs)} |`),
    '',
    `3 vs 1 scheduler, fired jobs/s: **${r.ratios.fire3vs1}x**; p99 lateness 3 / 1: **${r.ratios.p99Lateness3vs1}**.`,
    '',
    '## (c) Idle lateness and (d) end to end, one job at a time',
    '',
    `${r.idle.jobs} jobs, each scheduled ${r.idle.aheadMs} ms ahead, one every ${r.idle.everyMs} ms; 1 scheduler, 1 executor (app noop).`,
    'Started and DONE are the executor\'s times as recorded by the scheduler from jobs.status.',
    '',
    '| measure | p50 / p99 / max (ms) |',
    '|---|---|',
    `| fire lateness (fired_at - due_at) | ${ms(r.idle.fireLatenessMs)} |`,
    `| due -> started | ${ms(r.idle.dueToStartedMs)} |`,
    `| due -> DONE | ${ms(r.idle.dueToDoneMs)} |`,
    '',
    `Recorded DONE by the scheduler: ${r.idle.recordedDone} of ${r.idle.jobs}.`,
    '',
    '## (d) End to end, a burst',
    '',
    `${r.burst.jobs} jobs due at one instant through ${r.burst.schedulers} schedulers and ${r.burst.executors} executors (app noop).`,
    'Executed: executor.run_claims.finished_at - due instant.',
    '',
    '| measure | value |',
    '|---|---|',
    `| stored before due | ${r.burst.storedBeforeDue ? 'yes' : 'no'} |`,
    `| due -> executed p50 / p99 / max (ms) | ${ms(r.burst.dueToExecutedMs)} |`,
    `| executed jobs/s (jobs / last finish after due) | ${r.burst.executedPerSec} |`,
    `| recorded DONE by the scheduler 15 s after the last execution | ${r.burst.recordedDone} of ${r.burst.jobs} |`,
    '',
  ];
  if (r.burst.recordedDone < r.burst.jobs || r.idle.recordedDone < r.idle.jobs) {
    lines.push(
      'Jobs executed but not recorded DONE: the scheduler drops a jobs.status event that arrives before',
      'the firing transaction that published the run has committed (the run row does not exist yet).',
      '',
    );
  }
  return lines;
}

const fmt = (v) => (v === null || v === undefined ? 'n/a' : String(v));
const times = (v) => (v === null || v === undefined ? 'n/a' : `${v}x`);
const byProcess = (b = {}) => Object.entries(b).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k} ${v}`).join(', ');
const rss = (p = {}) => {
  const entries = Object.entries(p).filter(([, v]) => Number.isFinite(v));
  return entries.length === 1 ? `${entries[0][1]}` : entries.map(([k, v]) => `${k} ${v}`).join(', ');
};

function comparison(c) {
  const { config, versions: v } = c;
  const lines = [
    '## (e) Same-run comparison: end to end, no-op jobs due now',
    '',
    `Run ${c.date} (commit ${c.commit}); load average (1 / 5 / 15 min) at start ${c.loadStart.join(' / ')}, at end ${c.loadEnd.join(' / ')}.`,
    `One Kafka broker and one PostgreSQL server for every system, each system run on a fresh database of its own; PostgreSQL`,
    `\`fsync\` = **${c.postgresSettings.fsync}**, \`synchronous_commit\` = **${c.postgresSettings.synchronous_commit}**, \`full_page_writes\` = ${c.postgresSettings.full_page_writes}, \`shared_buffers\` = ${c.postgresSettings.shared_buffers}.`,
    `Interleaved (${config.systems.join(', ')}), ${config.rounds} round${config.rounds === 1 ? '' : 's'} for each size. Time: from the first enqueue to the moment the`,
    'bench sees every job recorded complete; every worker is started and idle before the clock starts.',
    '',
    `- **pipewright**: ingest-gateway, 1 scheduler, 1 executor (processes of their own; app \`noop\`); ScheduleJobs calls of ${INGEST_BATCH} jobs due now,`,
    `  ${INGEST_CONCURRENCY} calls at a time; complete = every job DONE in scheduler.jobs (polled every 20 to 250 ms).`,
    `- **graphile-worker ${v['graphile-worker']}**: \`run()\` with a task list in one process, the settings of its perfTest: concurrency 24, pool 25,`,
    '  localQueue 500 (refetch delay 10 ms), completeJobBatchDelay and failJobBatchDelay 0; `addJobs()` calls of 500, 4 at a time;',
    '  complete = its jobs table empty.',
    `- **pg-boss ${v['pg-boss']}**: \`useListenNotify\` and a \`notify\` queue, \`work()\` with batchSize 200, localConcurrency 2, burstWhenBatchFull;`,
    `  \`insert()\` calls of 500, 4 at a time; complete = every job in state completed.`,
    '',
    'CPU per job: *machine* is the busy time of every core (/proc/stat) over the run divided by the jobs, so it includes the',
    'broker, PostgreSQL, the bench and any other work on the machine; *bench\'s processes* counts only this bench\'s process tree',
    '(Kafka, PostgreSQL and its backends, the services or the peer\'s process, the bench itself), split by process in the last column.',
    'Peak RSS is VmHWM: each pipewright service process, or the peer\'s one process (which also enqueues).',
    '',
  ];
  for (const jobs of config.sizes) {
    const s = c.summary[jobs];
    const r = c.ratios[jobs];
    lines.push(
      `### ${jobs} jobs`,
      '',
      '| system | round | jobs/s | first enqueue -> all complete | all enqueued after | CPU ms/job machine | CPU ms/job bench\'s processes | peak RSS (MB) | load (1 min) | CPU ms/job by process |',
      '|---|---|---|---|---|---|---|---|---|---|',
      ...c.runs.filter((x) => x.jobs === jobs).map((x) => (x.error
        ? `| ${x.system} | ${x.round} | could not run: ${x.error.replaceAll('|', '/')} | | | | | | ${x.loadAvg1m} | |`
        : `| ${x.system} | ${x.round} | ${x.jobsPerSec} | ${x.ms} ms | ${fmt(x.enqueuedAfterMs)} ms | ${x.cpuMsPerJob.machine} | ${x.cpuMsPerJob.benchTree} | ${rss(x.peakRssMb)} | ${x.loadAvg1m} | ${byProcess(x.cpuMsPerJob.byProcess)} |`)),
      '',
      '| system | median jobs/s | median CPU ms/job, machine / bench\'s processes | peak RSS (MB) |',
      '|---|---|---|---|',
      ...config.systems.map((sys) => (s[sys]?.runs
        ? `| ${sys} | ${s[sys].medianJobsPerSec} | ${s[sys].medianCpuMsPerJob.machine} / ${s[sys].medianCpuMsPerJob.benchTree} | ${s[sys].peakRssMb} |`
        : `| ${sys} | n/a | n/a | n/a |`)),
      '',
      `pipewright / pg-boss, jobs/s: **${times(r.pipewrightVsPgBoss)}**; pipewright / graphile-worker: **${times(r.pipewrightVsGraphileWorker)}**.`,
      `CPU per job (bench's processes), pipewright / pg-boss: ${times(r.cpuPerJobPipewrightVsPgBoss)}; pipewright / graphile-worker: ${times(r.cpuPerJobPipewrightVsGraphileWorker)}.`,
      '',
    );
    for (const x of c.runs.filter((y) => y.jobs === jobs && y.stalled)) lines.push(`${x.system} round ${x.round}: ${x.stalled}.`, '');
  }
  const k = c.kafka;
  const pp = k.producerPerformance;
  const kc = k.kafkajsConsumer;
  lines.push(
    '### Kafka ceilings on the same broker',
    '',
    `A fresh topic of ${k.partitions} partitions, ${k.records} records of 300 bytes.`,
    '',
    '| measure | value |',
    '|---|---|',
    pp && !pp.error
      ? `| Kafka's ProducerPerformance (acks=all, one producer) | ${pp.recordsPerSec} records/s (${pp.mbPerSec} MB/s), latency avg ${pp.avgLatencyMs} ms, p99 ${fmt(pp.p99LatencyMs)} ms |`
      : `| Kafka's ProducerPerformance | could not run: ${fmt(pp?.error ?? k.error)} |`,
    kc
      ? `| raw kafkajs ${v.kafkajs} consumer (fresh group, from the start) | ${kc.messagesPerSec} messages/s from the first message (first after ${kc.firstMessageAfterMs} ms; ${kc.includingGroupJoinPerSec} messages/s counting the group join); CPU ${kc.cpuMsPerMessage.benchTree} ms per message |`
      : `| raw kafkajs consumer | could not run: ${fmt(k.error)} |`,
    '',
  );
  return lines;
}

/** The whole report: whichever sections the results hold. */
export function markdown(r) {
  return [
    ...header(r),
    ...(r.scaling ? scenarios(r) : []),
    ...(r.compare ? comparison(r.compare) : []),
  ].join('\n');
}

// bench/results/latest.md from the results of bench/run.mjs: the machine, scenarios (a) to (d),
// (e) the same-run comparison and (f) the targets, each section present when its results are.
import { INGEST_BATCH, INGEST_CONCURRENCY } from './lib.mjs';
import { machineRows } from '../scripts/lib/machine.mjs';

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
    ...machineRows(r.machine, r.machine),
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
    `One Kafka broker (Apache Kafka's own, the JVM's client compiler only: \`-XX:TieredStopAtLevel=1\`, as \`npm start\` and the tests run it) and one PostgreSQL server for every system, each system run on a fresh database of its own; PostgreSQL`,
    `\`fsync\` = **${c.postgresSettings.fsync}**, \`synchronous_commit\` = **${c.postgresSettings.synchronous_commit}**, \`full_page_writes\` = ${c.postgresSettings.full_page_writes}, \`shared_buffers\` = ${c.postgresSettings.shared_buffers}.`,
    `Interleaved (${config.systems.join(', ')}), ${config.rounds} round${config.rounds === 1 ? '' : 's'} for each size. Time: from the first enqueue to the moment the`,
    'bench sees every job recorded complete; every worker is started and idle before the clock starts.',
    ...(config.warmup
      ? [
          `Warm-up: before its clock starts each system runs ${config.warmup} jobs of the same kind through the same processes, to their`,
          'end, then waits 1 s, so the figures are those of running processes rather than of code being compiled; the warm-up\'s own',
          'rate (fresh processes) is in the *warm-up* column.',
        ]
      : []),
    '',
    `- **pipewright**: ingest-gateway, 1 scheduler, 1 executor (processes of their own; app \`noop\`); ScheduleJobs calls of ${INGEST_BATCH} jobs due now,`,
    `  ${INGEST_CONCURRENCY} calls at a time; complete = every job DONE in scheduler.jobs (polled every 10 ms once the executor's`,
    '  GetStats counts every run done, read every 20 to 100 ms; so the pg-boss bench polls its table once its handler has seen every job).',
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
      '| system | round | jobs/s | first enqueue -> all complete | all enqueued after | CPU ms/job machine | CPU ms/job bench\'s processes | peak RSS (MB) | load (1 min) | CPU ms/job by process | warm-up jobs/s |',
      '|---|---|---|---|---|---|---|---|---|---|---|',
      ...c.runs.filter((x) => x.jobs === jobs).map((x) => (x.error
        ? `| ${x.system} | ${x.round} | could not run: ${x.error.replaceAll('|', '/')} | | | | | | ${x.loadAvg1m} | | |`
        : `| ${x.system} | ${x.round} | ${x.jobsPerSec} | ${x.ms} ms | ${fmt(x.enqueuedAfterMs)} ms | ${x.cpuMsPerJob.machine} | ${x.cpuMsPerJob.benchTree} | ${rss(x.peakRssMb)} | ${x.loadAvg1m} | ${byProcess(x.cpuMsPerJob.byProcess)} | ${x.warmup ? `${x.warmup.jobsPerSec} (${x.warmup.jobs} jobs)` : 'none'} |`)),
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

const verdict = (v) => (v.met ? 'met' : '**not met**');
const load = (l) => (Array.isArray(l) ? l.join(' / ') : fmt(l));
const couldNot = (x) => [`Could not run: ${x.error}`, ''];

function targetsSection(t) {
  const c = t.config;
  const lines = [
    '## (f) Targets',
    '',
    `Run ${t.date} (commit ${t.commit}); load average (1 / 5 / 15 min) at start ${load(t.loadStart)}, at end ${load(t.loadEnd)}.`,
    `Each scenario on a stack of its own (a database of its own on the same server, the same broker); PostgreSQL \`fsync\` = **${t.postgresSettings.fsync}**,`,
    `\`synchronous_commit\` = **${t.postgresSettings.synchronous_commit}**. Before a stack's schedulers and executors start, the job path's consumer groups`,
    '(scheduler.ingest, scheduler.status, executor) are moved to the end of their topics, so a stack reads only what it produces;',
    'every count below is of the scenario\'s own request ids.',
    '',
    '| scenario | measure | figure | target | |',
    '|---|---|---|---|---|',
    ...t.verdicts.map((v) => (v.error
      ? `| ${v.scenario} | ${v.measure} | could not be measured: ${String(v.error).replaceAll('|', '/')} | | ${verdict(v)} |`
      : `| ${v.scenario} | ${v.measure} | ${fmt(v.value)}${v.unit ? ` ${v.unit}` : ''} | ${v.target}${v.unit ? ` ${v.unit}` : ''} | ${verdict(v)} |`)),
    '',
  ];
  const i = t.ingest;
  if (i) {
    lines.push(
      '### Ingest to stored, one scheduler, from a filled topic',
      '',
      `${c.ingestJobs} job requests (as the gateway writes them: app noop, due in a day, keyed by request id) produced to`,
      'scheduler.jobs.ingest with kafkajs in sends of 1000 (acks=all) before any scheduler runs; then one scheduler started.',
      'Stored per second: jobs / (first row\'s created_at -> every row in scheduler.jobs, counted once the scheduler\'s GetStats',
      'says every request processed, read every 10 ms, so that no count loads the database during the run), which leaves',
      'out the process start and the group join; the figure from the start of the process is beside it.',
      `Load average at start ${load(i.loadAvg)}.`,
      '',
      ...(i.error ? couldNot(i) : [
        '| measure | value |',
        '|---|---|',
        `| produced | ${i.producedMs} ms |`,
        `| scheduler SERVING after its start | ${i.schedulerServingAfterMs} ms |`,
        `| first row stored after the scheduler's start | ${i.firstStoredAfterStartMs} ms |`,
        `| first row -> all stored | ${i.firstToAllStoredMs} ms (created_at span ${i.createdAtSpanMs} ms) |`,
        `| stored jobs/s, first row -> all stored | **${fmt(i.storedPerSec)}** |`,
        `| stored jobs/s, created_at span | ${fmt(i.storedPerSecCreatedAtSpan)} |`,
        `| stored jobs/s, from the scheduler's start | ${fmt(i.storedPerSecFromStart)} (${i.fromStartMs} ms) |`,
        `| stored of ${i.jobs} | ${i.storedMine} |`,
        `| CPU ms/job, machine / bench's processes | ${i.cpuMsPerJob.machine} / ${i.cpuMsPerJob.benchTree} (${byProcess(i.cpuMsPerJob.byProcess)}) |`,
        `| peak RSS (MB) | ${rss(i.peakRssMb)} |`,
        '',
      ]),
    );
  }
  const s = t.sameSecond;
  if (s) {
    lines.push(
      `### ${c.sameSecondJobs} jobs due in the same second`,
      '',
      'All due at one instant (a whole second), submitted through ScheduleJobs (calls of 500, 4 at a time) far enough ahead',
      'to be stored first (the lead from the store rate of a warm-up on the same stack); 1 scheduler, 1 executor (app noop).',
      'All fired: every run row committed (polled every 100 ms). All executed: every executor.run_claims row DONE (polled every',
      '250 ms). None lost: a run and a DONE execution for every job. None twice: one run row per job, one claim per job, each',
      'claim with one attempt (a redelivered jobs.due message finds its claim and is not executed again).',
      `Load average at start ${load(s.loadAvg)}.`,
      '',
      ...(s.error ? couldNot(s) : [
        '| measure | value |',
        '|---|---|',
        `| warm-up store rate | ${s.warmupStoredPerSec} jobs/s (${s.warmupJobs} jobs); lead ${s.leadMs} ms |`,
        `| accepted / stored after | ${s.acceptedMs} ms / ${s.storedMs} ms; stored before due: ${s.storedBeforeDue ? 'yes' : '**no**'} |`,
        `| all fired after the due instant | **${fmt(s.allFiredAfterDueMs)} ms** (last fired_at ${fmt(s.lastFiredAtAfterDueMs)} ms; ${fmt(s.firedPerSec)} jobs/s) |`,
        `| fire lateness p50 / p99 / max (ms) | ${ms(s.latenessMs)} |`,
        `| all executed after the due instant | ${fmt(s.allExecutedAfterDueMs)} ms (last finished ${fmt(s.lastFinishedAfterDueMs)} ms; ${fmt(s.executedPerSec)} jobs/s) |`,
        `| runs / jobs with a run | ${s.runs} / ${s.jobsWithRuns} |`,
        `| claims / jobs with a claim / DONE / one attempt / more | ${s.claims} / ${s.jobsWithClaims} / ${s.claimsDone} / ${s.claimsOneAttempt} / ${s.claimsMoreAttempts} |`,
        `| CPU ms/job (due -> all executed), machine / bench's processes | ${s.cpuMsPerJob.machine} / ${s.cpuMsPerJob.benchTree} (${byProcess(s.cpuMsPerJob.byProcess)}) |`,
        `| peak RSS (MB) | ${rss(s.peakRssMb)} |`,
        '',
      ]),
    );
  }
  const st = t.steady;
  if (st) {
    lines.push(
      `### Steady ${c.steadyPerSec} jobs due per second for ${c.steadySeconds} s`,
      '',
      `${c.steadyPerSec * c.steadySeconds} jobs, each due at its own instant (${c.steadyPerSec} a second, evenly spread), stored before the first is due;`,
      '1 scheduler, 1 executor (app noop). Fire lateness: runs.fired_at - runs.due_at; due -> claimed: the executor\'s claim.',
      `Load average at start ${load(st.loadAvg)}.`,
      '',
      ...(st.error ? couldNot(st) : [
        '| measure | value |',
        '|---|---|',
        `| stored before the first due | ${st.storedBeforeFirstDue ? 'yes' : '**no**'} (${st.storedMs} ms) |`,
        `| fired / executed | ${st.fired} / ${st.executed} of ${st.jobs} |`,
        `| fire lateness p50 / p99 / max (ms) | **${ms(st.fireLatenessMs)}** |`,
        `| due -> claimed p50 / p99 / max (ms) | ${ms(st.dueToClaimedMs)} |`,
        `| fire lateness p99 of each second (ms) | ${st.p99BySecondMs.join(', ')} |`,
        `| CPU cores busy over the window, machine / bench's processes | ${st.cpuCoresBusy.machine} / ${st.cpuCoresBusy.benchTree} |`,
        `| peak RSS (MB) | ${rss(st.peakRssMb)} |`,
        '',
      ]),
    );
  }
  const sg = t.single;
  if (sg) {
    const p = sg.pipewright;
    lines.push(
      '### Single jobs at a low rate: add -> start',
      '',
      `${c.singleJobs} jobs (after ${c.singleWarmup} not counted), one every ${c.singleEveryMs} ms, each alone and due now. pipewright: ScheduleJob with no`,
      'scheduledTime, 1 scheduler, 1 executor; times from just before the call (the bench\'s clock) to the database\'s timestamps:',
      'stored (jobs.created_at), fired (runs.fired_at), claimed by the executor (run_claims.claimed_at, just before the handler runs),',
      'started as recorded by the scheduler (runs.started_at, the executor\'s startedAt). Peers: from just before the add call to',
      'the start of the handler, in the peer\'s process (graphile-worker addJob, pg-boss send; the settings of (e)).',
      `Load average at start ${load(sg.loadAvg)}.`,
      '',
      ...(sg.error ? couldNot(sg) : [
        '| system | measure | p50 / p99 / max (ms) |',
        '|---|---|---|',
        `| pipewright | ScheduleJob returned | ${ms(p.scheduleJobReturnedMs)} |`,
        `| pipewright | add -> stored | ${ms(p.addToStoredMs)} |`,
        `| pipewright | add -> fired | ${ms(p.addToFiredMs)} |`,
        `| pipewright | add -> claimed (start) | **${ms(p.addToClaimedMs)}** |`,
        `| pipewright | add -> started (scheduler's record) | ${ms(p.addToStartedMs)} |`,
        ...sg.peers.map((x) => (x.error ? `| ${x.system} | add -> start | could not run: ${x.error.replaceAll('|', '/')} |` : `| ${x.system} | add -> start | ${ms(x.addToStartMs)} |`)),
        ...(!sg.kafkaHop ? [] : sg.kafkaHop.error ? [`| raw kafkajs, one hop | could not run: ${sg.kafkaHop.error.replaceAll('|', '/')} | |`] : [
          `| raw kafkajs, one hop | produce (acks=all) acknowledged | ${ms(sg.kafkaHop.producedMs)} |`,
          `| raw kafkajs, one hop | produce -> consumer has it | ${ms(sg.kafkaHop.producedToReceivedMs)} |`,
        ]),
        '',
        ...(sg.kafkaHop && !sg.kafkaHop.error ? [
          'The raw kafkajs hop is the same broker at the same rate (a keyed 300-byte message, a fresh topic of 12 partitions, a consumer',
          'fetching as the services do: minBytes 1, an empty fetch held up to 1 s). pipewright\'s add -> start crosses two such hops (the',
          'gateway\'s produce to scheduler.jobs.ingest, the scheduler\'s to jobs.due) and two PostgreSQL transactions (the scheduler storing',
          'and firing the job, the executor claiming the run); the peers cross none of the hops.',
          '',
        ] : []),
      ]),
    );
  }
  const tr = t.tracing;
  if (tr) {
    lines.push(
      '### Tracing on vs off',
      '',
      `(e)'s pipewright run (${c.tracingJobs} no-op jobs due now, gateway + 1 scheduler + 1 executor), tracing off (no exporter configured)`,
      'and on (OTLP/HTTP JSON to a receiver in the bench\'s process, every trace sampled), interleaved off / on.',
      `Load average at start ${load(tr.loadAvg)}.`,
      '',
      ...(tr.error ? couldNot(tr) : [
        '| round | tracing | jobs/s | time | CPU ms/job, bench\'s processes | spans received | load (1 min) | CPU ms/job by process (bench: the receiver too) |',
        '|---|---|---|---|---|---|---|---|',
        ...tr.runs.map((x) => (x.error
          ? `| ${x.round} | ${x.tracing} | could not run: ${x.error.replaceAll('|', '/')} | | | | ${x.loadAvg1m} | |`
          : `| ${x.round} | ${x.tracing} | ${x.jobsPerSec} | ${x.ms} ms | ${x.cpuMsPerJob.benchTree} | ${x.spansReceived} | ${x.loadAvg1m} | ${byProcess(x.cpuMsPerJob.byProcess)} |`)),
        '',
        `Median jobs/s off ${fmt(tr.medianJobsPerSec.off)}, on ${fmt(tr.medianJobsPerSec.on)}: tracing costs **${fmt(tr.costPercent)}%**;`,
        `median CPU ms/job off ${fmt(tr.medianCpuMsPerJob.off)}, on ${fmt(tr.medianCpuMsPerJob.on)}.`,
        '',
      ]),
    );
  }
  return lines;
}

/** (g) bench/cron.mjs's table as it printed it. */
function cronSection(c) {
  return [
    '', '## (g) Next cron occurrence across clock changes', '',
    `Run ${c.date} by \`node bench/cron.mjs\` (no broker or database: the scheduler's own computation); load average ${c.loadAvg.join(' / ')}.`,
    'Microseconds per next occurrence, from an hour before each 2027 clock change of six zones and on an ordinary day.', '',
    '```', c.output, '```',
  ];
}

function ordersSection(o) {
  const row = (name, r) => `| ${name} | ${r.ordersPerSec} orders/s from the first count to the last (${r.includingStartPerSec} counting the start-up); ${r.countedInTotals} in the totals; CPU ${r.cpuMsPerOrder} ms per order |`;
  return [
    '', '## (h) Orders aggregated exactly once', '',
    `Run ${o.date}; load average ${o.loadStart} at the start, ${o.loadEnd} at the end. ${o.orders} plain-Avro orders of ${o.products} products on \`orders\` (12 partitions), read by a raw kafkajs consumer that does nothing with them, then counted by one order-aggregator (aggregates and offsets in one PostgreSQL transaction per batch, windows 1m and 1h).`, '',
    '| | |', '|---|---|',
    `| raw kafkajs consumer (fresh group, from the start) | ${o.raw.messagesPerSec} messages/s from the first message |`,
    row('order-aggregator, dedupe on (default)', o.exactlyOnce),
    row('order-aggregator, ORDERS_DEDUPE_WINDOW=0', o.noDedupe),
    '',
    `Ratio to the raw consumer: **${o.ratio}** with dedupe, ${o.ratioNoDedupe} without (target ${o.target}).`,
  ];
}

function stocksSection(s) {
  const sec = (ms) => `${(ms / 1000).toFixed(2)} s`;
  const row = (name, r, vs) => `| ${name} | ${sec(r.wallMs)} | ${sec(r.scrapingMs)} scraping, ${sec(r.processingMs)} processing (monitor) | ${vs} |`;
  return [
    '', '## (i) Market-data pipeline against a sequential script', '',
    `Run ${s.date}; load average ${s.loadStart} at the start, ${s.loadEnd} at the end. Regions ${s.regions.join(', ')}, ${s.limit} symbols each (${s.sequential.symbols} in all), from the synthetic source at ${s.latencyMs} ms a page of ${s.pageSize} companies (${s.pages} pages); each scraper fetches up to ${s.concurrency} pages at once. Wall time from the start of the run to the monitor reporting it complete, the median of ${s.rounds} rounds; the sequential script scrapes then processes region after region, one page and one INSERT at a time.`, '',
    '| | wall time | stages | ratio |', '|---|---|---|---|',
    `| sequential script (one process) | ${sec(s.sequential.wallMs)} | ${sec(s.sequential.scrapeMs)} scraping, ${sec(s.sequential.processMs)} processing | 1 |`,
    row('pipeline, 1 scraper + 1 processor', s.pipeline1, `${s.ratios.pipeline1VsSequential}x the script`),
    row('pipeline, 3 scrapers + 3 processors', s.pipeline3, `${s.ratios.pipeline3VsSequential}x the script, ${s.ratios.pipeline3Vs1}x one replica`),
    '',
    `Rounds (ms): sequential ${s.sequential.roundsMs.join(', ')}; x1 ${s.pipeline1.roundsMs.join(', ')}; x3 ${s.pipeline3.roundsMs.join(', ')}. Targets: ${s.targets.vsSequential} against the script, ${s.targets.threeVsOne} from one replica to three; a region is one scraping task, so five regions over three scrapers put two on one of them (at most 2.5x).`,
  ];
}

/** The whole report: whichever sections the results hold. */
export function markdown(r) {
  return [
    ...header(r),
    ...(r.scaling ? scenarios(r) : []),
    ...(r.compare ? comparison(r.compare) : []),
    ...(r.targets ? targetsSection(r.targets) : []),
    ...(r.cron ? cronSection(r.cron) : []),
    ...(r.orders ? ordersSection(r.orders) : []),
    ...(r.stocks ? stocksSection(r.stocks) : []),
  ].join('\n');
}

// jobs: schedule through the ingest gateway; get, list, runs and the controls on the scheduler.
import { date, int, jobStatus, jsonObject, oneOf, PRIORITIES, STATUSES } from '../args.mjs';
import { CliError, EXIT, usage } from '../errors.mjs';
import { proto } from '../generated.mjs';
import { call } from '../grpc.mjs';
import { fields, more, output, table, time } from '../output.mjs';

const { ingestV1, schedulerV1 } = proto;

const jobFields = (j) =>
  fields([
    ['job id', j.jobId],
    ['request id', j.requestId],
    ['app', j.appName],
    ['status', jobStatus(j.status)],
    ['priority', j.priority],
    ['schedule', j.schedule],
    ['scheduled', time(j.scheduledTime)],
    ['next fire', time(j.nextFireAt)],
    ['created', time(j.createdAt)],
    ['fired', time(j.firedAt)],
    ['started', time(j.startedAt)],
    ['finished', time(j.finishedAt)],
    ['attempts', j.attempts],
    ['runs', j.runs],
    ['skipped', j.skipped],
    ['last error', j.lastError],
    ['data', j.jobData ? JSON.stringify(j.jobData) : ''],
  ]);

/** @param {import('commander').Command} program */
export function register(program) {
  const jobs = program.command('jobs').description('schedule, list and control jobs (the gateway and the scheduler)');

  jobs
    .command('schedule')
    .description('schedule a job through the ingest gateway; prints its request id')
    .requiredOption('--app <name>', 'the app that runs it')
    .option('--at <time>', 'when (ISO 8601; default now)')
    .option('--cron <expr>', 'recurring: a cron expression (five or six fields)')
    .option('--timezone <zone>', 'IANA zone of the cron expression (default UTC)')
    .option('--every <ms>', 'recurring: every so many milliseconds', int('--every'))
    .option('--data <json>', 'job data, a JSON object', jsonObject('--data'))
    .option('--priority <priority>', 'high, normal or low', oneOf('--priority', PRIORITIES))
    .option('--idempotency-key <key>', 'jobs with the same key are scheduled once')
    .option('--request-id <id>', 'default: generated')
    .action(async (o, cmd) => {
      if (o.cron && o.every) throw usage('--cron and --every cannot be used together');
      const schedule = o.cron || o.every ? { cron: o.cron ?? '', timezone: o.timezone ?? '', everyMs: o.every ?? 0 } : undefined;
      const req = ingestV1.ScheduleJobRequest.fromPartial({
        appName: o.app,
        scheduledTime: o.at ?? '',
        jobData: o.data,
        schedule,
        priority: o.priority ?? 0,
        idempotencyKey: o.idempotencyKey ?? '',
        requestId: o.requestId ?? '',
      });
      const res = await call(cmd, 'ingest-gateway', 'scheduleJob', req);
      output(
        cmd,
        ingestV1.ScheduleJobResponse,
        res,
        (r) => `${r.requestId}\n(accepted: ${r.topic} partition ${r.partition} offset ${r.offset}; pipewright jobs get ${r.requestId} --partition ${r.partition} --offset ${r.offset})`,
      );
    });

  jobs
    .command('get')
    .description('a job, by job id or request id; with the position jobs schedule printed, NEW until the scheduler has read it and REFUSED if it turned it down')
    .argument('<id>')
    .option('--partition <n>', 'the partition of scheduler.jobs.ingest the request was accepted at (with --offset)', int('--partition'))
    .option('--offset <n>', 'its offset there (with --partition)', int('--offset'))
    .action(async (id, o, cmd) => {
      if ((o.partition === undefined) !== (o.offset === undefined)) throw usage('--partition and --offset go together: both from what jobs schedule printed, or neither');
      const req = schedulerV1.GetJobRequest.fromPartial({ jobId: id, partition: o.partition, offset: o.offset });
      output(cmd, schedulerV1.Job, await call(cmd, 'scheduler', 'getJob', req), jobFields);
    });

  jobs
    .command('list')
    .description('jobs, filtered')
    .option('--app <name>', 'of this app')
    .option('--status <status>', `in this status (${Object.keys(STATUSES).join(', ')})`, oneOf('--status', STATUSES))
    .option('--from <time>', 'scheduled at or after', date('--from'))
    .option('--to <time>', 'scheduled before', date('--to'))
    .option('--limit <n>', 'page size', int('--limit'))
    .option('--page-token <token>', 'the next page of an earlier list')
    .action(async (o, cmd) => {
      const req = schedulerV1.ListJobsRequest.fromPartial({
        appName: o.app ?? '',
        status: o.status ?? 0,
        scheduledFrom: o.from,
        scheduledTo: o.to,
        pageSize: o.limit ?? 0,
        pageToken: o.pageToken ?? '',
      });
      const res = await call(cmd, 'scheduler', 'listJobs', req);
      output(
        cmd,
        schedulerV1.ListJobsResponse,
        res,
        (r) =>
          table(
            ['JOB ID', 'APP', 'STATUS', 'SCHEDULED', 'RUNS', 'LAST ERROR'],
            r.jobs.map((j) => [j.jobId, j.appName, jobStatus(j.status), time(j.scheduledTime), String(j.runs), j.lastError]),
          ) + more(r.nextPageToken),
      );
    });

  for (const [verb, method, description] of [
    ['cancel', 'cancelJob', 'cancel a job'],
    ['pause', 'pauseJob', 'pause a job (its occurrences do not fire until resumed)'],
    ['resume', 'resumeJob', 'resume a paused job'],
    ['trigger', 'triggerNow', 'fire a job now'],
  ]) {
    jobs
      .command(verb)
      .description(description)
      .argument('<id>', 'job id or request id')
      .action(async (id, _o, cmd) => {
        let job;
        try {
          job = await call(cmd, 'scheduler', method, schedulerV1.JobRef.fromPartial({ jobId: id }));
        } catch (err) {
          if (err instanceof CliError && err.code === EXIT.precondition) throw new CliError(`job ${id}: ${err.message}`, err.code);
          throw err;
        }
        output(cmd, schedulerV1.Job, job, (j) => `job ${j.jobId}: ${jobStatus(j.status)}`);
      });
  }

  jobs
    .command('runs')
    .description("a job's runs, newest first")
    .argument('<id>', 'job id or request id')
    .option('--limit <n>', 'page size', int('--limit'))
    .option('--page-token <token>', 'the next page of an earlier list')
    .action(async (id, o, cmd) => {
      const res = await call(cmd, 'scheduler', 'listRuns', schedulerV1.ListRunsRequest.fromPartial({ jobId: id, pageSize: o.limit ?? 0, pageToken: o.pageToken ?? '' }));
      output(
        cmd,
        schedulerV1.ListRunsResponse,
        res,
        (r) =>
          table(
            ['RUN ID', 'STATUS', 'ATTEMPT', 'DUE', 'STARTED', 'FINISHED', 'ERROR'],
            r.runs.map((x) => [x.runId, jobStatus(x.status), String(x.attempt), time(x.dueAt), time(x.startedAt), time(x.finishedAt), x.error]),
          ) + more(r.nextPageToken),
      );
    });
}

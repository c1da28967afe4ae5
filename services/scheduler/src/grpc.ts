// gRPC control and status of jobs: pipewright.scheduler.v1.Scheduler.
import { failedPrecondition, invalidArgument, notFound, unary, type ConsumerStats, type GroupPosition, type Logger, type Pool } from '@pipewright/platform';
import { schedulerV1 } from '@pipewright/proto';
import { cancelJob, CONTROL_FROM, countJobs, getJob, getRefusal, listJobs, listRuns, pauseJob, resumeJob, triggerNow, type JobStatus, type JobView, type RunRow, PRIORITY_NAME } from './store';
import type { SchedulerMetrics } from './metrics';

const { JobStatus: PbStatus } = schedulerV1;

const STATUS_TO_PB: Record<string, schedulerV1.JobStatus> = {
  NEW: PbStatus.JOB_STATUS_NEW,
  SCHEDULED: PbStatus.JOB_STATUS_SCHEDULED,
  FIRED: PbStatus.JOB_STATUS_SCHEDULED,
  RUNNING: PbStatus.JOB_STATUS_RUNNING,
  DONE: PbStatus.JOB_STATUS_DONE,
  FAILED: PbStatus.JOB_STATUS_FAILED,
  DEAD: PbStatus.JOB_STATUS_DEAD,
  CANCELLED: PbStatus.JOB_STATUS_CANCELLED,
  PAUSED: PbStatus.JOB_STATUS_PAUSED,
  SKIPPED: PbStatus.JOB_STATUS_SKIPPED,
  PENDING: PbStatus.JOB_STATUS_PENDING,
};
const PB_TO_STATUS = new Map<number, JobStatus>(
  Object.entries(STATUS_TO_PB)
    .filter(([k]) => !['FIRED', 'SKIPPED', 'PENDING'].includes(k))
    .map(([k, v]) => [v, k as JobStatus]),
);

function toPbJob(j: JobView): schedulerV1.Job {
  return {
    jobId: j.id,
    requestId: j.request_id,
    appName: j.app_name,
    status: STATUS_TO_PB[j.status] ?? PbStatus.JOB_STATUS_UNSPECIFIED,
    priority: PRIORITY_NAME[j.priority] ?? 'normal',
    idempotencyKey: j.idempotency_key ?? '',
    jobData: j.job_data,
    scheduledTime: j.scheduled_time,
    createdAt: j.created_at,
    firedAt: j.fired_at ?? undefined,
    startedAt: j.started_at ?? undefined,
    finishedAt: j.finished_at ?? undefined,
    attempts: j.attempts,
    lastError: j.last_error ?? '',
    traceId: /^00-([0-9a-f]{32})-/.exec(j.trace_context?.traceparent ?? '')?.[1] ?? '',
    runs: j.runs,
    schedule: !j.schedule ? '' : 'cron' in j.schedule ? `cron ${j.schedule.cron} ${j.schedule.timezone}` : `every ${j.schedule.everyMs} ms`,
    nextFireAt: j.next_fire_at ?? undefined,
    skipped: j.skipped,
  };
}

function toPbRun(r: RunRow): schedulerV1.Run {
  return {
    runId: r.id,
    jobId: r.job_id,
    status: STATUS_TO_PB[r.status] ?? PbStatus.JOB_STATUS_UNSPECIFIED,
    attempt: r.attempt,
    dueAt: r.due_at,
    firedAt: r.fired_at,
    startedAt: r.started_at ?? undefined,
    finishedAt: r.finished_at ?? undefined,
    error: r.error ?? '',
  };
}

const encodeToken = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
function decodeToken<T>(field: string, token: string): T | undefined {
  if (!token) return undefined;
  try {
    return JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as T;
  } catch {
    throw invalidArgument(field, 'is not a page token returned by this service');
  }
}

function pageSize(field: string, n: number): number {
  if (n < 0) throw invalidArgument(field, 'must not be negative');
  return Math.min(n || 100, 1000);
}

function requireId(field: string, id: string): string {
  if (!id) throw invalidArgument(field, 'is required');
  return id;
}

/** GetJob's partition and offset: both or neither. */
function acceptedAt(req: schedulerV1.GetJobRequest): { partition: number; offset: number } | undefined {
  if (req.partition === undefined && req.offset === undefined) return undefined;
  if (req.partition === undefined) throw invalidArgument('partition', 'is required with offset');
  if (req.offset === undefined) throw invalidArgument('offset', 'is required with partition');
  return { partition: req.partition, offset: req.offset };
}

export function schedulerHandlers(
  pool: Pool,
  metrics: SchedulerMetrics,
  ingest: Pick<ConsumerStats, 'received' | 'processed' | 'failed' | 'sentToDlq'>,
  logger: Logger,
  position: GroupPosition,
): Partial<schedulerV1.SchedulerServer> {
  const mustGet = async (id: string) => {
    const job = await getJob(pool, id);
    if (!job) throw notFound(`job ${id}`);
    return job;
  };
  const control = (apply: (pool: Pool, jobId: string) => Promise<{ changed: boolean; job?: JobView }>, from: JobStatus[], verb: string) =>
    unary<schedulerV1.JobRef, schedulerV1.Job>(logger, async (req) => {
      const job = await mustGet(requireId('job_id', req.jobId));
      const result = await apply(pool, job.id);
      if (!result.changed) {
        const status = result.job?.status ?? job.status;
        if (from.includes(status)) throw failedPrecondition(`cannot ${verb} a one-shot job whose occurrence has already fired (status ${status})`);
        throw failedPrecondition(`cannot ${verb} a job whose status is ${status}`);
      }
      return toPbJob(result.job!);
    });

  return {
    // With where the gateway published the request: NEW until the ingest group has read past
    // it, then the stored job or the refusal. The job is stored (or the refusal recorded) before
    // the group commits past it, so once the position says read, a second look finds it.
    getJob: unary(logger, async (req: schedulerV1.GetJobRequest) => {
      const id = requireId('job_id', req.jobId);
      const at = acceptedAt(req);
      const job = await getJob(pool, id);
      if (job) return toPbJob(job);
      if (!at) throw notFound(`job ${id}`);
      if (!(await position.readPast(at.partition, at.offset))) return schedulerV1.Job.fromPartial({ requestId: id, status: PbStatus.JOB_STATUS_NEW });
      const stored = await getJob(pool, id);
      if (stored) return toPbJob(stored);
      // Only the refusal of this request (or of one whose id could not be read) answers for it.
      const refusal = await getRefusal(pool, at.partition, at.offset);
      if (refusal && (refusal.requestId === null || refusal.requestId === id))
        return schedulerV1.Job.fromPartial({ requestId: id, status: PbStatus.JOB_STATUS_REFUSED, lastError: `refused: ${refusal.reason}` });
      throw notFound(`job ${id} (the request at partition ${at.partition}, offset ${at.offset} was read and stored no job of that id: a duplicate of an idempotency key, or another request)`);
    }),

    listJobs: unary(logger, async (req: schedulerV1.ListJobsRequest) => {
      const limit = pageSize('page_size', req.pageSize);
      const after = decodeToken<{ t: string; id: string }>('page_token', req.pageToken);
      const status = req.status ? PB_TO_STATUS.get(req.status) : undefined;
      if (req.status && !status) throw invalidArgument('status', `unknown status ${req.status}`);
      const rows = await listJobs(pool, {
        appName: req.appName || undefined,
        status,
        from: req.scheduledFrom,
        to: req.scheduledTo,
        after: after && { scheduledTime: new Date(after.t), id: after.id },
        limit: limit + 1,
      });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        jobs: page.map(toPbJob),
        nextPageToken: rows.length > limit && last ? encodeToken({ t: last.scheduled_time.toISOString(), id: last.id }) : '',
      };
    }),

    listRuns: unary(logger, async (req: schedulerV1.ListRunsRequest) => {
      const job = await mustGet(requireId('job_id', req.jobId));
      const limit = pageSize('page_size', req.pageSize);
      const after = decodeToken<{ id: string }>('page_token', req.pageToken);
      const rows = await listRuns(pool, job.id, after?.id, limit + 1);
      const page = rows.slice(0, limit);
      return { runs: page.map(toPbRun), nextPageToken: rows.length > limit ? encodeToken({ id: page[page.length - 1].id }) : '' };
    }),

    cancelJob: control(cancelJob, CONTROL_FROM.cancel, 'cancel'),
    pauseJob: control(pauseJob, CONTROL_FROM.pause, 'pause'),
    resumeJob: control(resumeJob, CONTROL_FROM.resume, 'resume'),
    triggerNow: control(triggerNow, CONTROL_FROM.trigger, 'trigger'),

    getStats: unary(logger, async () => {
      const l = metrics.latenessSummary();
      const c = metrics.counts;
      return {
        messagesReceived: ingest.received,
        messagesProcessed: ingest.processed,
        messagesFailed: ingest.failed,
        messagesSentToDlq: ingest.sentToDlq,
        duplicatesSkipped: c.duplicates,
        misfires: c.misfires,
        fired: c.fired,
        fireLatenessP50Ms: l.p50,
        fireLatenessP99Ms: l.p99,
        fireLatenessMaxMs: l.max,
        overlapSkips: c.overlapSkips,
      };
    }),

    countJobs: unary(logger, async (req: schedulerV1.CountJobsRequest) => {
      const byStatus = new Map<schedulerV1.JobStatus, number>();
      for (const r of await countJobs(pool, req.appName || undefined)) {
        const status = STATUS_TO_PB[r.status] ?? PbStatus.JOB_STATUS_UNSPECIFIED;
        byStatus.set(status, (byStatus.get(status) ?? 0) + Number(r.count));
      }
      return { counts: [...byStatus].sort(([a], [b]) => a - b).map(([status, count]) => ({ status, count })) };
    }),
  };
}

import { invalidArgument, unary, type Logger, type MessageProducer } from '@pipewright/platform';
import { ingestV1 } from '@pipewright/proto';
import { TOPICS, jobRequestKey, jobRequestToWire, readAppNames, type ValidationOptions } from '@pipewright/contracts';
import { validateForGrpc } from './jobs';
import type { Config } from './config';

export function gatewayHandlers(config: Config, producer: MessageProducer, logger: Logger): Partial<ingestV1.IngestGatewayServer> {
  const apps = readAppNames(config.APPS_CONFIG);
  const opts: ValidationOptions = { defaultZone: config.INGEST_DEFAULT_TIMEZONE, apps };

  return {
    scheduleJob: unary(logger, async (req: ingestV1.ScheduleJobRequest) => {
      const job = validateForGrpc(req, opts);
      const [r] = await producer.send(TOPICS.jobsIngest, [{ key: jobRequestKey(job), value: jobRequestToWire(job) }]);
      logger.info({ requestId: job.requestId, app: job.appName, partition: r.partition, offset: r.offset }, 'job accepted');
      return { requestId: job.requestId, topic: r.topic, partition: r.partition, offset: Number(r.offset) };
    }),

    scheduleJobs: unary(logger, async (req: ingestV1.ScheduleJobsRequest) => {
      if (req.jobs.length === 0) throw invalidArgument('jobs', 'must hold at least one job');
      if (req.jobs.length > config.INGEST_MAX_BATCH) throw invalidArgument('jobs', `must hold at most ${config.INGEST_MAX_BATCH} jobs`);
      const jobs = req.jobs.map((j, i) => validateForGrpc(j, opts, `jobs[${i}].`));
      const sent = await Promise.all(jobs.map((job) => producer.send(TOPICS.jobsIngest, [{ key: jobRequestKey(job), value: jobRequestToWire(job) }])));
      logger.info({ count: jobs.length }, 'jobs accepted');
      return { jobs: jobs.map((job, i) => ({ requestId: job.requestId, topic: sent[i][0].topic, partition: sent[i][0].partition, offset: Number(sent[i][0].offset) })) };
    }),
  };
}

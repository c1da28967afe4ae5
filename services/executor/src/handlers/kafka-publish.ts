// kafka.publish: publishes the job's data to a Kafka topic.
import { TOPICS } from '@pipewright/contracts';
import { PermanentError, type Handler } from './types';

// pipewright's own topics: a job must not be able to forge scheduling or run events.
const RESERVED_TOPICS: ReadonlySet<string> = new Set(Object.values(TOPICS));

/**
 * Publishes jobData (or jobData.value) to the app's topic. An app without a topic of its own
 * publishes to jobData.topic, which must match options.topicPattern when one is set and may
 * never be one of pipewright's own topics.
 */
export const kafkaPublish: Handler = async (ctx) => {
  const own = ctx.options.topic;
  let topic: string;
  if (typeof own === 'string' && own !== '') {
    topic = own;
  } else {
    const requested = ctx.jobData.topic;
    if (typeof requested !== 'string' || requested === '') throw new PermanentError('kafka.publish needs a topic in the app options or jobData.topic');
    const pattern = ctx.options.topicPattern;
    if (typeof pattern === 'string' && !new RegExp(`^(?:${pattern})$`).test(requested)) {
      throw new PermanentError(`jobData.topic "${requested}" does not match the app's topicPattern ${pattern}`);
    }
    topic = requested;
  }
  if (RESERVED_TOPICS.has(topic)) throw new PermanentError(`kafka.publish may not write to pipewright's own topic ${topic}`);
  const key = (ctx.jobData.key as string | undefined) ?? (ctx.options.key as string | undefined) ?? ctx.jobId;
  const value = 'value' in ctx.jobData ? ctx.jobData.value : ctx.jobData;
  await ctx.ensureTopic(topic);
  await ctx.producer.send(topic, [{ key: String(key), value: value as object, headers: { 'pipewright-run-id': ctx.runId, 'pipewright-job-id': ctx.jobId, 'pipewright-app': ctx.appName } }]);
  ctx.published(topic);
};

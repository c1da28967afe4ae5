// Schedules one job a few seconds ahead through the gateway and prints its status until it ends.
import { clients } from './lib/clients.mjs';

const gatewayAddr = process.env.GATEWAY_ADDR ?? '127.0.0.1:50051';
const schedulerAddr = process.env.SCHEDULER_ADDR ?? '127.0.0.1:50052';
const app = process.argv[2] ?? 'sms';
const STATUS = ['UNSPECIFIED', 'NEW', 'SCHEDULED', 'RUNNING', 'DONE', 'FAILED', 'DEAD', 'CANCELLED', 'PAUSED'];

const gateway = clients.gateway(gatewayAddr);
const scheduler = clients.scheduler(schedulerAddr);
const scheduledTime = new Date(Date.now() + 3000).toISOString();
const jobData = { to: '+15550100', text: 'hello from pipewright' };
let accepted;
try {
  accepted = await gateway.scheduleJob({ appName: app, scheduledTime, jobData });
} catch (err) {
  console.error(`ScheduleJob on ${gatewayAddr} failed: ${err.details ?? err.message}. Is npm start running?`);
  process.exit(1);
}
console.log(`scheduled ${app} job ${accepted.requestId} for ${scheduledTime} (${accepted.topic} partition ${accepted.partition} offset ${accepted.offset})`);

let last = '';
for (let i = 0; i < 120; i++) {
  let line;
  let job;
  try {
    job = await scheduler.getJob({ jobId: accepted.requestId });
    line = `${STATUS[job.status]}${job.firedAt ? ` fired=${job.firedAt.toISOString()}` : ''}${job.startedAt ? ` started=${job.startedAt.toISOString()}` : ''}${job.finishedAt ? ` finished=${job.finishedAt.toISOString()}` : ''}${job.lastError ? ` error=${job.lastError}` : ''}`;
  } catch (err) {
    line = err.code === 5 ? 'not stored yet' : `GetJob failed: ${err.details ?? err.message}`;
  }
  if (line !== last) console.log(`${new Date().toISOString()}  ${line}`);
  last = line;
  if (job && ['DONE', 'DEAD', 'CANCELLED'].includes(STATUS[job.status])) {
    if (job.traceId) console.log(`trace id ${job.traceId}`);
    process.exit(STATUS[job.status] === 'DONE' ? 0 : 1);
  }
  await new Promise((r) => setTimeout(r, 250));
}
console.error('the job did not finish within 30 s');
process.exit(1);

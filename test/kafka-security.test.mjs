// Kafka locked down: a broker of this file's own whose one client listener is SASL_SSL (SCRAM-SHA-512
// users made when its storage is formatted, client certificates required, the StandardAuthorizer
// on, an admin super user), certificates made here with openssl, and each service logging in as its
// own user, holding only the ACLs scripts/lib/kafka-acls.mjs derives from services.json.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { promisify } from 'node:util';
import { schedulerV1 } from '@pipewright/proto';
import { startStack, eventually, kafkaJars, makeTestDir } from '@pipewright/testkit';
import { startKafka } from '../scripts/lib/kafka.mjs';
import { aclCommands, kafkaAcls } from '../scripts/lib/kafka-acls.mjs';

const require = createRequire(import.meta.url);
const kafkajs = require('kafkajs');
const { tlsSocketFactory } = require('@pipewright/platform');
const { JobStatus } = schedulerV1;
const SERVICES = ['ingest-gateway', 'scheduler', 'executor', 'monitor'];
const USER_PREFIX = 'pipewright-';
const dir = makeTestDir();

/** openssl in `at`; its chatter kept out of the test's output. */
const openssl = (at, args) => execFileSync('openssl', args, { cwd: at, stdio: 'pipe' });

/** A CA in its own directory: ca.pem and ca.key. */
function makeCa(name) {
  const at = join(dir, name);
  mkdirSync(at, { recursive: true });
  openssl(at, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', `/CN=${name}`]);
  return { at, pem: join(at, 'ca.pem') };
}

/** A key and a certificate the CA signs, as <name>.key and <name>.pem, and a PKCS#12 file of both. */
function issue(ca, name, cn, ext) {
  openssl(ca.at, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${cn}`]);
  writeFileSync(join(ca.at, `${name}.ext`), ext);
  openssl(ca.at, ['x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', `${name}.pem`, '-days', '2', '-extfile', `${name}.ext`]);
  openssl(ca.at, ['pkcs12', '-export', '-in', `${name}.pem`, '-inkey', `${name}.key`, '-certfile', 'ca.pem', '-out', `${name}.p12`, '-passout', 'pass:keystore-pass', '-name', name]);
  return { pem: join(ca.at, `${name}.pem`), key: join(ca.at, `${name}.key`), p12: join(ca.at, `${name}.p12`) };
}

const password = () => randomBytes(12).toString('hex');
const passwords = Object.fromEntries(SERVICES.map((s) => [s, password()]));
const ADMIN = { user: 'admin', password: password() };
const acls = kafkaAcls({ userPrefix: USER_PREFIX });

/** @type {{ at: string, pem: string }} */
let ca;
/** @type {{ at: string, pem: string }} */
let otherCa;
/** @type {{ pem: string, key: string, p12: string }} */
let client;
/** @type {{ brokers: string, stop: () => Promise<unknown> }} */
let broker;
/** @type {import('@pipewright/testkit').Stack} */
let stack;
/** @type {import('kafkajs').Admin} */
let admin;

/** A kafkajs client of `user` over the broker's SASL_SSL listener, with the services' client certificate. */
const kafkaAs = (user, pass) =>
  new kafkajs.Kafka({
    clientId: `test-${user}`,
    brokers: [broker.brokers],
    ssl: { ca: readFileSync(ca.pem), cert: readFileSync(client.pem), key: readFileSync(client.key) },
    sasl: { mechanism: 'scram-sha-512', username: user, password: pass },
    logLevel: kafkajs.logLevel.NOTHING,
    retry: { retries: 2 },
  });

/** The ACLs of one service granted through the admin API. */
async function grantWithAdminApi(service) {
  const { principal, acls: list } = acls.find((a) => a.service === service) ?? assert.fail(`no ACLs for ${service}`);
  const acl = list.flatMap((a) =>
    a.operations.map((op) => ({
      resourceType: a.resource === 'topic' ? kafkajs.AclResourceTypes.TOPIC : kafkajs.AclResourceTypes.GROUP,
      resourceName: a.name,
      resourcePatternType: a.pattern === 'prefixed' ? kafkajs.ResourcePatternTypes.PREFIXED : kafkajs.ResourcePatternTypes.LITERAL,
      principal,
      host: '*',
      operation: kafkajs.AclOperationTypes[op.toUpperCase()],
      permissionType: kafkajs.AclPermissionTypes.ALLOW,
    })),
  );
  await admin.createAcls({ acl });
}

/** The ACLs of one service granted by running the kafka-acls commands scripts/kafka-acls.mjs prints, with Kafka's own AclCommand. */
async function grantWithKafkaAcls(service) {
  const tool = join(dir, 'kafka-acls.sh');
  writeFileSync(tool, `#!/bin/sh\nexec java -Xmx128m -XX:TieredStopAtLevel=1 -cp '${kafkaJars({ log: () => {} })}/*' org.apache.kafka.tools.AclCommand "$@"\n`);
  chmodSync(tool, 0o755);
  const config = join(dir, 'admin.properties');
  writeFileSync(
    config,
    [
      'security.protocol=SASL_SSL',
      'sasl.mechanism=SCRAM-SHA-512',
      `sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${ADMIN.user}" password="${ADMIN.password}";`,
      'ssl.truststore.type=PEM',
      `ssl.truststore.location=${ca.pem}`,
      'ssl.keystore.type=PKCS12',
      `ssl.keystore.location=${client.p12}`,
      'ssl.keystore.password=keystore-pass',
      '',
    ].join('\n'),
  );
  const commands = aclCommands(
    acls.filter((a) => a.service === service),
    { tool },
  );
  assert.ok(commands.length >= 3, `kafka-acls commands for ${service}: ${commands.join('\n')}`);
  await Promise.all(commands.map((c) => promisify(execFile)('sh', ['-ec', c], { env: { ...process.env, BOOTSTRAP: broker.brokers, ADMIN_CONFIG: config } })));
}

/** The chain of an error and its causes, for the broker's error type. */
const errorTypes = (err) => {
  const out = [];
  const queue = [err];
  while (queue.length && out.length < 20) {
    const e = queue.shift();
    if (!e || typeof e !== 'object') continue;
    out.push(e.type ?? e.name);
    queue.push(e.cause, e.originalError, ...(e.errors ?? []));
  }
  return out;
};

before(async () => {
  ca = makeCa('pipewright-kafka-ca');
  otherCa = makeCa('another-ca');
  const brokerCert = issue(ca, 'broker', '127.0.0.1', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  client = issue(ca, 'services', 'pipewright-services', 'extendedKeyUsage=clientAuth\n');
  broker = await startKafka({
    dataDir: join(dir, 'kafka'),
    logFile: join(dir, 'kafka.log'),
    heap: '384m',
    security: {
      users: { [ADMIN.user]: ADMIN.password, ...Object.fromEntries(SERVICES.map((s) => [`${USER_PREFIX}${s}`, passwords[s]])) },
      superUser: ADMIN.user,
      keystore: brokerCert.p12,
      keystorePassword: 'keystore-pass',
      caFile: ca.pem,
    },
  });
  admin = kafkaAs(ADMIN.user, ADMIN.password).admin();
  await admin.connect();
  await Promise.all([grantWithKafkaAcls('executor'), ...SERVICES.filter((s) => s !== 'executor').map(grantWithAdminApi)]);
  stack = await startStack({
    env: {
      KAFKA_BROKERS: broker.brokers,
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA: ca.pem,
      KAFKA_SSL_CERT: client.pem,
      KAFKA_SSL_KEY: client.key,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_TOPIC_PARTITIONS: '2',
      EXECUTOR_DEFAULT_MAX_RETRIES: '0',
    },
    envFor: Object.fromEntries(SERVICES.map((s) => [s, { KAFKA_SASL_USERNAME: `${USER_PREFIX}${s}`, KAFKA_SASL_PASSWORD: passwords[s] }])),
  });
  for (const s of SERVICES) await stack.start(s);
});

after(async () => {
  await stack?.stop();
  await admin?.disconnect();
  await broker?.stop();
});

/** Schedules a job through the gateway and waits for the scheduler to report it in one of `statuses`. */
async function runJob(appName, jobData, statuses) {
  const { requestId } = await stack.client('ingest-gateway').scheduleJob({ appName, scheduledTime: new Date().toISOString(), jobData });
  return eventually(
    async () => {
      const job = await stack
        .client('scheduler')
        .getJob({ jobId: requestId })
        .catch(() => undefined);
      return job && statuses.includes(job.status) && job;
    },
    { timeoutMs: 30_000, message: `${appName} job in ${statuses.join(' or ')}` },
  );
}

test('over SASL_SSL with client certificates, each service logged in as its own user, a job goes gateway → scheduler → executor → DONE', async () => {
  const before = Number((await admin.fetchTopicOffsets('sms.jobs')).reduce((n, p) => n + Number(p.high), 0));
  const job = await runJob('sms', { to: '+15550100', text: 'hello' }, [JobStatus.JOB_STATUS_DONE, JobStatus.JOB_STATUS_DEAD]);
  assert.equal(job.status, JobStatus.JOB_STATUS_DONE, `the job is DONE (last error: ${job.lastError})`);
  const after = Number((await admin.fetchTopicOffsets('sms.jobs')).reduce((n, p) => n + Number(p.high), 0));
  assert.equal(after - before, 1, 'the sms app published its message to sms.jobs');
  // Each service's own principal holds the ACLs: the broker lists them per user.
  for (const s of SERVICES) {
    const { resources } = await admin.describeAcls({
      resourceType: kafkajs.AclResourceTypes.ANY,
      resourcePatternType: kafkajs.ResourcePatternTypes.ANY,
      principal: `User:${USER_PREFIX}${s}`,
      operation: kafkajs.AclOperationTypes.ANY,
      permissionType: kafkajs.AclPermissionTypes.ANY,
    });
    const granted = resources.reduce((n, r) => n + r.acls.length, 0);
    const expected = acls.find((a) => a.service === s)?.acls.reduce((n, a) => n + a.operations.length, 0);
    assert.equal(granted, expected, `${s}: the broker holds the ACLs of the table`);
  }
});

test("the monitor, as its own user, reads the groups' commits from __consumer_offsets and describes their lag", async () => {
  const groups = await eventually(
    async () => {
      const { groups: listed } = await stack.client('monitor').listConsumerGroups({});
      const ids = listed.map((g) => g.groupId);
      return ['scheduler.ingest', 'scheduler.status', 'executor'].every((g) => ids.includes(g)) && ids;
    },
    { timeoutMs: 30_000, message: "the scheduler's and the executor's groups listed by the monitor" },
  );
  assert.ok(groups.includes('executor'));
  assert.doesNotMatch(stack.log('monitor'), /AUTHORIZATION_FAILED/, 'the monitor was refused nothing');
});

test('a kafka.publish app without a topic of its own writes under its prefix, and the broker refuses it any other topic', async () => {
  const ok = await runJob('publish', { topic: 'publish.reports', value: { n: 1 } }, [JobStatus.JOB_STATUS_DONE, JobStatus.JOB_STATUS_DEAD]);
  assert.equal(ok.status, JobStatus.JOB_STATUS_DONE, `publish.reports is under the app's prefix (last error: ${ok.lastError})`);
  const refused = await runJob('publish', { topic: 'payments.out', value: { n: 2 } }, [JobStatus.JOB_STATUS_DONE, JobStatus.JOB_STATUS_DEAD]);
  assert.equal(refused.status, JobStatus.JOB_STATUS_DEAD);
  assert.match(refused.lastError, /TOPIC_AUTHORIZATION_FAILED on payments\.out/, "the run failed on the broker's refusal");
  assert.ok(!(await admin.listTopics()).includes('payments.out'), 'the executor could not create the topic');
});

test("the broker refuses the executor's principal a topic it does not own: writing jobs.due is TOPIC_AUTHORIZATION_FAILED", async () => {
  const producer = kafkaAs(`${USER_PREFIX}executor`, passwords.executor).producer();
  await producer.connect();
  try {
    const err = await producer.send({ topic: 'jobs.due', messages: [{ value: '{"forged":true}' }] }).then(
      () => assert.fail('the broker accepted a jobs.due message from the executor'),
      (e) => e,
    );
    assert.ok(errorTypes(err).includes('TOPIC_AUTHORIZATION_FAILED'), `refused as TOPIC_AUTHORIZATION_FAILED: ${errorTypes(err).join(' <- ')}`);
  } finally {
    await producer.disconnect();
  }
  // The scheduler, which owns jobs.due, may write it.
  const scheduler = kafkaAs(`${USER_PREFIX}scheduler`, passwords.scheduler).producer();
  await scheduler.connect();
  try {
    await assert.doesNotReject(scheduler.send({ topic: 'jobs.due', messages: [{ value: 'not a due run' }] }));
  } finally {
    await scheduler.disconnect();
  }
});

/** Starts the gateway with `env` over the stack's, expects it to stop, and returns its exit and log. */
async function failedStart(as, env) {
  await assert.rejects(stack.start('ingest-gateway', { as, env }), /exited/);
  const p = stack.proc(as);
  return { exit: await p.stop(), why: p.exited() ?? '', log: stack.log(as) };
}

test('a wrong password stops start-up with exit 78 and one line naming KAFKA_SASL_PASSWORD, no stack trace', async () => {
  const { why, log } = await failedStart('gateway-wrong-password', { KAFKA_SASL_PASSWORD: 'not-the-password' });
  assert.match(why, /code 78/, 'exit 78, a configuration error');
  assert.match(log, /ingest-gateway: invalid configuration:\n\s+KAFKA_SASL_USERNAME \/ KAFKA_SASL_PASSWORD: the broker refused scram-sha-512 authentication of user "pipewright-ingest-gateway"/);
  assert.doesNotMatch(log, /\n\s+at \S+ \(/, 'no stack trace');
  assert.doesNotMatch(log, /not-the-password/, 'the password is not logged');
});

test('a CA that did not sign the broker certificate stops start-up with exit 78 and one line naming KAFKA_SSL_CA, no stack trace', async () => {
  const { why, log } = await failedStart('gateway-untrusted-ca', { KAFKA_SSL_CA: otherCa.pem });
  assert.match(why, /code 78/, 'exit 78, a configuration error');
  assert.match(
    log,
    /ingest-gateway: invalid configuration:\n\s+KAFKA_SSL_CA: the certificate of broker 127\.0\.0\.1:\d+ is not trusted \([A-Z_]+: .+\); KAFKA_SSL_CA \(.+another-ca\/ca\.pem\) must hold the CA that signed it/,
  );
  assert.doesNotMatch(log, /\n\s+at \S+ \(/, 'no stack trace');
});

test('without a client certificate, where the broker requires one, start-up stops with exit 78 and one line naming KAFKA_SSL_CERT', async () => {
  const { why, log } = await failedStart('gateway-no-client-cert', { KAFKA_SSL_CERT: '', KAFKA_SSL_KEY: '' });
  assert.match(why, /code 78/, 'exit 78, a configuration error');
  assert.match(
    log,
    /ingest-gateway: invalid configuration:\n\s+KAFKA_SSL_CERT: the broker refused the TLS handshake \(TLS alert: bad certificate\); it asks for a client certificate: set KAFKA_SSL_CERT and KAFKA_SSL_KEY\n/,
  );
  assert.doesNotMatch(log, /\n\s+at \S+ \(/, 'no stack trace');
});

test('the CA file is read again for new connections: a connection that did not trust the broker does once the file holds its CA', async () => {
  const caFile = join(dir, 'rotated-ca.pem');
  copyFileSync(otherCa.pem, caFile);
  // The sockets the services' Kafka clients open when KAFKA_SSL_CA and KAFKA_SSL_CERT are set.
  const sockets = tlsSocketFactory({ ca: caFile, cert: client.pem, key: client.key });
  const [host, port] = broker.brokers.split(':');
  /** @returns {Promise<string>} 'trusted' once the TLS handshake is done, else the error's code */
  const handshake = () =>
    new Promise((resolve) => {
      const socket = sockets({ host, port: Number(port), ssl: {}, onConnect: () => (socket.destroy(), resolve('trusted')) });
      socket.on('error', (/** @type {NodeJS.ErrnoException} */ err) => (socket.destroy(), resolve(err.code ?? err.message)));
    });
  assert.notEqual(await handshake(), 'trusted', 'the other CA is not trusted');
  // What a Secret rotated in place does to the mounted file.
  copyFileSync(ca.pem, caFile);
  // The file is kept for 5 s; the wait allows for a busy machine.
  await eventually(async () => (await handshake()) === 'trusted', { timeoutMs: 15_000, message: 'a connection trusting the new CA' });
});

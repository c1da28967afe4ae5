// Apache Kafka's own broker (KRaft, combined broker + controller, one node on 127.0.0.1),
// run from its Maven Central jars. Jars are cached outside the repository.
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, writeFileSync, rmSync, openSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { PrerequisiteError, freePort, waitForPort, stopChild } from './proc.mjs';

export const KAFKA_VERSION = process.env.PIPEWRIGHT_KAFKA_VERSION ?? '4.3.1';
const LOG4J_VERSION = '2.25.4';

export function kafkaHome() {
  const cache = process.env.PIPEWRIGHT_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'pipewright');
  return join(cache, `kafka-${KAFKA_VERSION}`);
}

function need(cmd, args, what) {
  const r = spawnSync(cmd, args, { encoding: 'utf8' });
  if (r.error || r.status !== 0) {
    throw new PrerequisiteError(`${cmd} is required to ${what} but could not be run (${/** @type {NodeJS.ErrnoException | undefined} */ (r.error)?.code ?? r.stderr?.trim().split('\n')[0]}): install it (Debian: apt-get install ${cmd === 'mvn' ? 'maven' : 'openjdk-17-jre-headless'}), or set KAFKA_BROKERS to an existing Kafka cluster`);
  }
}

/** Downloads the broker and tools jars through Maven once; later calls find them in the cache. */
export function ensureKafkaJars({ log = console.log } = {}) {
  const home = kafkaHome();
  const libs = join(home, 'libs');
  if (existsSync(join(libs, `kafka_2.13-${KAFKA_VERSION}.jar`)) && existsSync(join(home, '.complete'))) return libs;
  need('java', ['-version'], 'run the Kafka broker');
  need('mvn', ['-v'], 'download the Kafka jars from Maven Central');
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, 'pom.xml'), `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>dev.pipewright</groupId><artifactId>kafka-runtime</artifactId><version>${KAFKA_VERSION}</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>${KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j-impl</artifactId><version>${LOG4J_VERSION}</version></dependency>
  </dependencies>
</project>
`);
  log(`downloading Apache Kafka ${KAFKA_VERSION} jars through Maven into ${home} (once)`);
  const r = spawnSync('mvn', ['-q', '-B', 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`, '-DincludeScope=runtime'], {
    cwd: home,
    stdio: 'inherit',
  });
  if (r.status !== 0) throw new Error(`Maven could not download the Kafka jars (exit ${r.status}); see the output above`);
  writeFileSync(join(home, '.complete'), new Date().toISOString());
  return libs;
}

function log4jConfig(dir) {
  const file = join(dir, 'log4j2.xml');
  writeFileSync(file, `<?xml version="1.0" encoding="UTF-8"?>
<Configuration status="WARN">
  <Appenders>
    <Console name="stdout" target="SYSTEM_OUT">
      <PatternLayout pattern="[%d] %p %m (%c)%n"/>
    </Console>
  </Appenders>
  <Loggers>
    <Root level="WARN"><AppenderRef ref="stdout"/></Root>
    <Logger name="kafka" level="WARN"/>
    <Logger name="org.apache.kafka" level="WARN"/>
  </Loggers>
</Configuration>
`);
  return file;
}

/**
 * @typedef {object} KafkaSecurity A SASL_SSL listener instead of PLAINTEXT: SCRAM-SHA-512 users
 *   created when the storage is formatted, the StandardAuthorizer on (nothing is allowed that no
 *   ACL allows), `superUser` above the ACLs, and TLS with client certificates signed by `caFile`.
 * @property {Record<string, string>} users SCRAM-SHA-512 user name -> password (letters and digits)
 * @property {string} superUser one of `users`: the broker's own login and the ACLs' administrator
 * @property {string} keystore PKCS#12 file with the broker's key and certificate (for 127.0.0.1)
 * @property {string} keystorePassword its password
 * @property {string} caFile PEM CA that signs the clients' certificates
 * @property {'required' | 'requested' | 'none'} [clientAuth] ssl.client.auth (default required: mTLS)
 */

/** The server.properties lines of the client listener: PLAINTEXT, or SASL_SSL with ACLs. */
function listenerProps(port, controllerPort, /** @type {KafkaSecurity | undefined} */ security) {
  if (!security) {
    return [
      `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
      `advertised.listeners=PLAINTEXT://127.0.0.1:${port}`,
      'inter.broker.listener.name=PLAINTEXT',
      'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    ];
  }
  const { users, superUser } = security;
  if (!(superUser in users)) throw new Error(`the super user ${superUser} needs a password in security.users`);
  return [
    `listeners=SASL_SSL://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    `advertised.listeners=SASL_SSL://127.0.0.1:${port}`,
    'inter.broker.listener.name=SASL_SSL',
    'listener.security.protocol.map=SASL_SSL:SASL_SSL,CONTROLLER:PLAINTEXT',
    'sasl.enabled.mechanisms=SCRAM-SHA-512',
    'sasl.mechanism.inter.broker.protocol=SCRAM-SHA-512',
    `listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required username="${superUser}" password="${users[superUser]}";`,
    'ssl.keystore.type=PKCS12',
    `ssl.keystore.location=${security.keystore}`,
    `ssl.keystore.password=${security.keystorePassword}`,
    'ssl.truststore.type=PEM',
    `ssl.truststore.location=${security.caFile}`,
    `listener.name.sasl_ssl.ssl.client.auth=${security.clientAuth ?? 'required'}`,
    'authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    // The controller listener is loopback PLAINTEXT inside this one process (User:ANONYMOUS).
    `super.users=User:${superUser};User:ANONYMOUS`,
    'allow.everyone.if.no.acl.found=false',
  ];
}

/**
 * Starts a single-node KRaft broker. Internal topics use replication factor 1, or consumer
 * groups never find a coordinator. Resolves once the broker accepts connections. With
 * `security`, its one client listener is SASL_SSL with ACLs (see KafkaSecurity).
 * @param {{ dataDir: string, port?: number, controllerPort?: number, logFile?: string, heap?: string, security?: KafkaSecurity }} options
 */
export async function startKafka({ dataDir, port, controllerPort, logFile, heap = '512m', security }) {
  const libs = ensureKafkaJars();
  port ??= await freePort();
  controllerPort ??= await freePort();
  mkdirSync(dataDir, { recursive: true });
  const logDir = join(dataDir, 'data');
  const props = join(dataDir, 'server.properties');
  writeFileSync(props, [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    ...listenerProps(port, controllerPort, security),
    'controller.listener.names=CONTROLLER',
    `log.dirs=${logDir}`,
    'num.partitions=12',
    'default.replication.factor=1',
    'offsets.topic.replication.factor=1',
    'offsets.topic.num.partitions=12',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    'auto.create.topics.enable=false',
    'log.retention.hours=24',
    '',
  ].join('\n'));
  const classpath = `${libs}/*`;
  // The client compiler only (TieredStopAtLevel=1): this broker lives for a local run, a test run
  // or a benchmark, minutes long, and on a small machine the optimising compiler's work costs
  // more CPU than its faster code saves in that time. Measured on 2 cores, 20,000 jobs end to
  // end: the broker's CPU per job went from 0.141 and 0.211 ms to 0.080 and 0.106 ms.
  const jvm = [`-Xms128m`, `-Xmx${heap}`, '-XX:+UseG1GC', '-XX:TieredStopAtLevel=1', `-Dlog4j2.configurationFile=${log4jConfig(dataDir)}`, '-cp', classpath];
  if (!existsSync(join(logDir, 'meta.properties'))) {
    rmSync(logDir, { recursive: true, force: true });
    // SCRAM credentials go into the metadata log at format time: the broker's own login needs them at once.
    const scram = Object.entries(security?.users ?? {}).flatMap(([name, password]) => ['--add-scram', `SCRAM-SHA-512=[name=${name},password=${password}]`]);
    const fmt = spawnSync('java', [...jvm, 'kafka.tools.StorageTool', 'format', '-t', 'pipewright-local-cluster0', '-c', props, '--ignore-formatted', ...scram], { encoding: 'utf8' });
    if (fmt.error) need('java', ['-version'], 'run the Kafka broker');
    if (fmt.status !== 0) throw new Error(`kafka storage format failed: ${fmt.stderr || fmt.stdout}`);
  }
  const out = logFile ? openSync(logFile, 'a') : 'ignore';
  // Its own process group: a terminal's Ctrl-C reaches the launcher, which stops it last.
  const child = spawn('java', [...jvm, 'kafka.Kafka', props], { stdio: ['ignore', out, out], detached: true });
  if (typeof out === 'number') closeSync(out);
  /** @type {{ error?: string, code?: number | null, signal?: string | null } | null} */
  let exited = null;
  child.on('error', (/** @type {NodeJS.ErrnoException} */ err) => { exited ??= { error: err.code ?? err.message }; });
  child.on('exit', (code, signal) => { exited = { code, signal }; });
  const onExit = () => { if (!exited) child.kill('SIGTERM'); };
  process.on('exit', onExit);
  child.on('exit', () => process.off('exit', onExit));
  try {
    await waitForPort(port, { timeoutMs: 90_000, isDead: () => exited && `Kafka exited (${JSON.stringify(exited)}); see ${logFile ?? 'its output'}` });
  } catch (err) {
    if (/** @type {{ error?: string } | null} */ (exited)?.error === 'ENOENT') need('java', ['-version'], 'run the Kafka broker');
    if (!exited) child.kill('SIGKILL');
    throw err;
  }
  return {
    brokers: `127.0.0.1:${port}`,
    port,
    controllerPort,
    child,
    stop: () => stopChild(child, 20_000),
  };
}

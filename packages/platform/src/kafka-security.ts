// How a service proves itself to Kafka and checks the brokers: TLS with a CA and an optional
// client certificate from files (read again on new connections, so a rotated Secret is used
// without a restart), SASL (SCRAM-SHA-512 in a locked-down cluster), and the start-up check
// that turns a refused password, an untrusted certificate or a missing ACL into one line
// naming the setting, instead of retries and stack traces.
import { isIP } from 'node:net';
import { connect as tlsConnect, type ConnectionOptions } from 'node:tls';
import type { ISocketFactory } from 'kafkajs';
import { ConfigError, readSettingFile, setting } from './config';

export const kafkaSecuritySettings = {
  KAFKA_SSL: setting.bool('connect to Kafka with TLS', { default: false }),
  KAFKA_SSL_CA: setting.optionalString("PEM CA bundle the brokers' certificates are checked against (the system's CAs when unset); needs KAFKA_SSL; read again for new connections"),
  KAFKA_SSL_CERT: setting.optionalString('PEM client certificate presented to the brokers (mTLS), with KAFKA_SSL_KEY; needs KAFKA_SSL; read again for new connections'),
  KAFKA_SSL_KEY: setting.optionalString('PEM private key of KAFKA_SSL_CERT'),
  KAFKA_SASL_MECHANISM: setting.optionalOneOf('Kafka SASL mechanism; no SASL when unset', ['plain', 'scram-sha-256', 'scram-sha-512'] as const),
  KAFKA_SASL_USERNAME: setting.optionalString("Kafka SASL user name (the service's principal, User:<name>, in the ACLs)"),
  KAFKA_SASL_PASSWORD: setting.optionalString('Kafka SASL password', { secret: true }),
};

export type SaslMechanism = 'plain' | 'scram-sha-256' | 'scram-sha-512';

export interface KafkaSecurityConfig {
  KAFKA_SSL: boolean;
  KAFKA_SSL_CA?: string;
  KAFKA_SSL_CERT?: string;
  KAFKA_SSL_KEY?: string;
  KAFKA_SASL_MECHANISM?: SaslMechanism;
  KAFKA_SASL_USERNAME?: string;
  KAFKA_SASL_PASSWORD?: string;
}

/** Files of the TLS settings (paths). */
export interface KafkaTlsFiles {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface KafkaSecurityOptions {
  ssl?: boolean;
  tlsFiles?: KafkaTlsFiles;
  sasl?: { mechanism: SaslMechanism; username: string; password: string };
}

/** The security part of the Kafka options; wrong combinations and unreadable files stop start-up, named. */
export function kafkaSecurityFrom(cfg: KafkaSecurityConfig): KafkaSecurityOptions {
  const problems: string[] = [];
  let sasl: KafkaSecurityOptions['sasl'];
  if (cfg.KAFKA_SASL_MECHANISM) {
    const missing = (['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD'] as const).filter((k) => !cfg[k]);
    problems.push(...missing.map((k) => `${k} is required when KAFKA_SASL_MECHANISM is set (${cfg.KAFKA_SASL_MECHANISM})`));
    if (!missing.length) sasl = { mechanism: cfg.KAFKA_SASL_MECHANISM, username: cfg.KAFKA_SASL_USERNAME as string, password: cfg.KAFKA_SASL_PASSWORD as string };
  }
  const files = { KAFKA_SSL_CA: cfg.KAFKA_SSL_CA, KAFKA_SSL_CERT: cfg.KAFKA_SSL_CERT, KAFKA_SSL_KEY: cfg.KAFKA_SSL_KEY };
  for (const [name, file] of Object.entries(files)) if (file && !cfg.KAFKA_SSL) problems.push(`${name} needs KAFKA_SSL=true (the file is used for TLS)`);
  if (Boolean(cfg.KAFKA_SSL_CERT) !== Boolean(cfg.KAFKA_SSL_KEY)) problems.push('KAFKA_SSL_CERT and KAFKA_SSL_KEY go together: set both or neither');
  if (problems.length) throw new ConfigError(problems);
  for (const [name, file] of Object.entries(files)) if (file) readSettingFile(name, file);
  const tlsFiles = cfg.KAFKA_SSL && (cfg.KAFKA_SSL_CA || cfg.KAFKA_SSL_CERT) ? { ca: cfg.KAFKA_SSL_CA, cert: cfg.KAFKA_SSL_CERT, key: cfg.KAFKA_SSL_KEY } : undefined;
  return { ssl: cfg.KAFKA_SSL, tlsFiles, sasl };
}

const REREAD_MS = 5000;

/**
 * TLS sockets with the CA and client certificate of the settings' files, read again at most
 * every few seconds: a certificate rotated in a mounted Secret is used from the next connection.
 */
export function tlsSocketFactory(files: KafkaTlsFiles): ISocketFactory {
  let cached: { at: number; options: ConnectionOptions } | undefined;
  const current = (): ConnectionOptions => {
    if (!cached || Date.now() - cached.at > REREAD_MS) {
      cached = {
        at: Date.now(),
        options: {
          ...(files.ca ? { ca: readSettingFile('KAFKA_SSL_CA', files.ca) } : {}),
          ...(files.cert && files.key ? { cert: readSettingFile('KAFKA_SSL_CERT', files.cert), key: readSettingFile('KAFKA_SSL_KEY', files.key) } : {}),
        },
      };
    }
    return cached.options;
  };
  return ({ host, port, onConnect }) => {
    const socket = tlsConnect({ host, port, ...(isIP(host) ? {} : { servername: host }), ...current() }, onConnect);
    socket.setKeepAlive(true, 60_000);
    return socket;
  };
}

/** Node's codes for a peer certificate that does not check out against the trusted CAs. */
const UNTRUSTED_CERTIFICATE = new Set([
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);
const AUTHORIZATION = new Set(['TOPIC_AUTHORIZATION_FAILED', 'GROUP_AUTHORIZATION_FAILED', 'CLUSTER_AUTHORIZATION_FAILED', 'TRANSACTIONAL_ID_AUTHORIZATION_FAILED']);

type KafkaJsError = Error & { code?: string; type?: string; broker?: string; cause?: unknown; originalError?: unknown; errors?: unknown[] };

/** The error and what caused it, outermost first (kafkajs wraps causes in retry errors, and per-topic errors in one aggregate). */
function chain(err: unknown): KafkaJsError[] {
  const out: KafkaJsError[] = [];
  const queue: unknown[] = [err];
  while (queue.length && out.length < 20) {
    const e = queue.shift() as KafkaJsError | undefined;
    if (!e || typeof e !== 'object' || out.includes(e)) continue;
    out.push(e);
    queue.push(e.cause, e.originalError, ...(Array.isArray(e.errors) ? e.errors : []));
  }
  return out;
}

/**
 * When the broker refused the principal an operation (an ACL it lacks, which waiting does not
 * mend), what it refused: "TOPIC_AUTHORIZATION_FAILED on payments.out"; else undefined.
 */
export function authorizationRefusal(err: unknown): string | undefined {
  const refused = chain(err).filter((e) => e.type && AUTHORIZATION.has(e.type));
  if (!refused.length) return undefined;
  return [...new Set(refused.map((e) => `${e.type}${(e as { topic?: string }).topic ? ` on ${(e as { topic?: string }).topic}` : ''}`))].join(', ');
}

/**
 * The setting to blame when Kafka refused the service for who it is rather than for being
 * away: a refused SASL login, a broker certificate the CA did not sign, a client certificate
 * the broker refused, or an ACL the principal lacks. Undefined for anything else.
 */
export function kafkaAccessProblem(err: unknown, options: KafkaSecurityOptions): ConfigError | undefined {
  const user = options.sasl ? `"${options.sasl.username}"` : '(no SASL user)';
  for (const e of chain(err)) {
    if (e.name === 'KafkaJSSASLAuthenticationError') {
      return new ConfigError([`KAFKA_SASL_USERNAME / KAFKA_SASL_PASSWORD: the broker refused ${options.sasl?.mechanism ?? 'SASL'} authentication of user ${user} (${e.message}); check the password`]);
    }
    if (e.code && UNTRUSTED_CERTIFICATE.has(e.code)) {
      const where = e.broker ? ` of broker ${e.broker}` : '';
      const fix = options.tlsFiles?.ca ? `KAFKA_SSL_CA (${options.tlsFiles.ca}) must hold the CA that signed it` : "set KAFKA_SSL_CA to the CA that signed it (the system's CAs do not)";
      return new ConfigError([`KAFKA_SSL_CA: the certificate${where} is not trusted (${e.code}: ${e.message.replace(/^Connection error: /, '')}); ${fix}`]);
    }
    if (e.code?.startsWith('ERR_SSL_') && /alert/i.test(e.message)) {
      // OpenSSL's text names the alert among its internals: "... sslv3 alert bad certificate:...".
      const alert = /alert ([a-z ]+?)(?::|\n|$)/i.exec(e.message)?.[1] ?? e.code;
      const fix = options.tlsFiles?.cert ? 'KAFKA_SSL_CERT must be signed by a CA the broker trusts' : 'it asks for a client certificate: set KAFKA_SSL_CERT and KAFKA_SSL_KEY';
      return new ConfigError([`KAFKA_SSL_CERT: the broker refused the TLS handshake (TLS alert: ${alert}); ${fix}`]);
    }
    if (e.type && AUTHORIZATION.has(e.type)) {
      return new ConfigError([`Kafka user ${user} is not allowed to do this (${e.type}: ${e.message}); grant the service its ACLs (node scripts/kafka-acls.mjs, docs/security.md)`]);
    }
  }
  return undefined;
}

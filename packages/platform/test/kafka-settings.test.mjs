// The Kafka security settings that only work together are checked before anything connects,
// each problem naming its setting.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, kafkaOptionsFrom } from '@pipewright/platform';

const base = { KAFKA_BROKERS: ['k:9093'], KAFKA_SSL: true, KAFKA_TOPIC_PARTITIONS: 12, KAFKA_REPLICATION_FACTOR: -1, KAFKA_SESSION_TIMEOUT: 30000 };
const dir = mkdtempSync(join(tmpdir(), 'pw-kafka-settings-'));
const pem = join(dir, 'ca.pem');
writeFileSync(pem, '-----BEGIN CERTIFICATE-----\n-----END CERTIFICATE-----\n');

/** The problems a ConfigError lists, or a failure when the options were accepted. */
function problems(cfg) {
  try {
    kafkaOptionsFrom({ ...base, ...cfg }, 'svc');
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return err.problems;
  }
  return assert.fail(`accepted ${JSON.stringify(cfg)}`);
}

test('TLS files without KAFKA_SSL, or a client certificate without its key, are refused by name', () => {
  assert.deepEqual(problems({ KAFKA_SSL: false, KAFKA_SSL_CA: pem }), ['KAFKA_SSL_CA needs KAFKA_SSL=true (the file is used for TLS)']);
  assert.deepEqual(problems({ KAFKA_SSL_CERT: pem }), ['KAFKA_SSL_CERT and KAFKA_SSL_KEY go together: set both or neither']);
});

test('a TLS file that cannot be read stops start-up naming its setting and path', () => {
  const [problem] = problems({ KAFKA_SSL_CA: join(dir, 'missing.pem') });
  assert.match(problem, /^KAFKA_SSL_CA .*missing\.pem cannot be read: ENOENT/);
});

test('with readable files the options carry them for TLS, and SASL with its user', () => {
  const opts = kafkaOptionsFrom({ ...base, KAFKA_SSL_CA: pem, KAFKA_SSL_CERT: pem, KAFKA_SSL_KEY: pem, KAFKA_SASL_MECHANISM: 'scram-sha-512', KAFKA_SASL_USERNAME: 'svc', KAFKA_SASL_PASSWORD: 'pw' }, 'svc');
  assert.deepEqual(opts.tlsFiles, { ca: pem, cert: pem, key: pem });
  assert.deepEqual(opts.sasl, { mechanism: 'scram-sha-512', username: 'svc', password: 'pw' });
  assert.equal(opts.ssl, true);
});

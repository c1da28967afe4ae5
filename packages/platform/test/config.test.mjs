import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig, setting, ConfigError, describeSettings, serviceSettings } from '@pipewright/platform';

const spec = {
  KAFKA_BROKERS: setting.list('Kafka bootstrap servers'),
  GRPC_PORT: setting.port('gRPC port', { default: 50051 }),
  LOG_LEVEL: setting.oneOf('log level', ['info', 'debug'], { default: 'info' }),
  FEATURE: setting.bool('a switch', { default: false }),
  TOKEN: setting.optionalString('a token', { secret: true }),
};

test('a missing required setting stops start-up with its name', () => {
  assert.throws(() => loadConfig(spec, {}), (err) => {
    assert.ok(err instanceof ConfigError);
    assert.equal(err.problems.length, 1);
    assert.match(err.problems[0], /^KAFKA_BROKERS is required/);
    return true;
  });
});

test('every malformed setting is reported by name in one error', () => {
  assert.throws(() => loadConfig(spec, { GRPC_PORT: '70000', LOG_LEVEL: 'loud', FEATURE: 'maybe' }), (err) => {
    assert.ok(err instanceof ConfigError);
    const text = err.problems.join('\n');
    for (const name of ['KAFKA_BROKERS', 'GRPC_PORT', 'LOG_LEVEL', 'FEATURE']) assert.match(text, new RegExp(`^${name} `, 'm'));
    assert.equal(err.problems.length, 4);
    return true;
  });
});

test('values are parsed to their types and defaults fill the rest', () => {
  const c = loadConfig(spec, { KAFKA_BROKERS: 'a:9092, b:9092', FEATURE: 'true' });
  assert.deepEqual(c, { KAFKA_BROKERS: ['a:9092', 'b:9092'], GRPC_PORT: 50051, LOG_LEVEL: 'info', FEATURE: true, TOKEN: undefined });
});

test('describeSettings lists required settings, defaults and secrets', () => {
  const d = Object.fromEntries(describeSettings(spec).map((s) => [s.name, s]));
  assert.equal(d.KAFKA_BROKERS.required, true);
  assert.equal(d.GRPC_PORT.required, false);
  assert.equal(d.GRPC_PORT.default, '50051');
  assert.equal(d.TOKEN.secret, true);
});

test('every service inherits the common settings with its own default gRPC port', () => {
  const s = serviceSettings(50099, {});
  const c = loadConfig(s, { KAFKA_BROKERS: 'k:9092' });
  assert.equal(c.GRPC_PORT, 50099);
  assert.equal(c.KAFKA_TOPIC_PARTITIONS, 12);
  assert.equal(c.SHUTDOWN_TIMEOUT, 25000);
});

test('a time zone setting accepts IANA names and refuses anything else by name', () => {
  const zoneSpec = { ZONE: setting.zone('default zone', { default: 'UTC' }) };
  assert.equal(loadConfig(zoneSpec, {}).ZONE, 'UTC');
  assert.equal(loadConfig(zoneSpec, { ZONE: 'America/New_York' }).ZONE, 'America/New_York');
  assert.throws(() => loadConfig(zoneSpec, { ZONE: 'Mars/Olympus_Mons' }), (err) => err instanceof ConfigError && /^ZONE is malformed: "Mars\/Olympus_Mons" is not an IANA time zone/.test(err.problems[0]));
});

test('a SASL mechanism without its user name and password is refused, naming both', async () => {
  const { kafkaOptionsFrom } = await import('@pipewright/platform');
  const base = { KAFKA_BROKERS: ['k:9092'], KAFKA_SSL: true, KAFKA_TOPIC_PARTITIONS: 12, KAFKA_REPLICATION_FACTOR: -1, KAFKA_SESSION_TIMEOUT: 30000 };
  assert.throws(() => kafkaOptionsFrom({ ...base, KAFKA_SASL_MECHANISM: 'scram-sha-512' }, 'svc'), (err) => {
    assert.ok(err instanceof ConfigError);
    assert.match(err.message, /KAFKA_SASL_USERNAME is required when KAFKA_SASL_MECHANISM is set/);
    assert.match(err.message, /KAFKA_SASL_PASSWORD is required when KAFKA_SASL_MECHANISM is set/);
    return true;
  });
  const opts = kafkaOptionsFrom({ ...base, KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, 'svc');
  assert.deepEqual(opts.sasl, { mechanism: 'plain', username: 'u', password: 'p' });
  assert.equal(opts.ssl, true);
  assert.equal(opts.clientId, 'svc');
});

test('a duration setting reads 500ms, 30s, 15m, 24h, 7d or bare milliseconds, and refuses anything else by name', () => {
  const d = { WINDOW: setting.duration('a window', { default: '24h' }) };
  assert.equal(loadConfig(d, {}).WINDOW, 86_400_000);
  assert.deepEqual(['500ms', '30s', '15m', '1.5h', '7d', '250'].map((v) => loadConfig(d, { WINDOW: v }).WINDOW), [500, 30_000, 900_000, 5_400_000, 604_800_000, 250]);
  assert.equal(describeSettings(d)[0].default, '24h');
  assert.throws(() => loadConfig(d, { WINDOW: 'a day' }), (err) => err instanceof ConfigError && /^WINDOW is malformed: expected a duration/.test(err.problems[0]));
});

test('a duration setting renamed from its _MS form still reads the old name, in milliseconds, and the new name wins', () => {
  const spec = { SCHEDULER_MAX_IDLE: setting.duration('longest sleep', { default: '10s', formerly: 'SCHEDULER_MAX_IDLE_MS' }) };
  assert.equal(loadConfig(spec, {}).SCHEDULER_MAX_IDLE, 10_000);
  assert.equal(loadConfig(spec, { SCHEDULER_MAX_IDLE_MS: '2500' }).SCHEDULER_MAX_IDLE, 2500);
  assert.equal(loadConfig(spec, { SCHEDULER_MAX_IDLE: '2s', SCHEDULER_MAX_IDLE_MS: '2500' }).SCHEDULER_MAX_IDLE, 2000);
  assert.throws(() => loadConfig(spec, { SCHEDULER_MAX_IDLE_MS: 'soon' }), /SCHEDULER_MAX_IDLE_MS is malformed/);
  assert.deepEqual(describeSettings(spec).map((d) => d.formerly), ['SCHEDULER_MAX_IDLE_MS']);
});

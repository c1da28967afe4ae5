import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tracingConfigured } from '@pipewright/platform';

test('tracing is on only when the environment says where traces go, and OTEL_SDK_DISABLED=true wins', () => {
  assert.equal(tracingConfigured({}), false, 'nothing set: off');
  assert.equal(tracingConfigured({ OTEL_SERVICE_NAME: 'scheduler' }), false, 'a service name alone: off');
  assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), true);
  assert.equal(tracingConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://collector:4318/v1/traces' }), true);
  assert.equal(tracingConfigured({ OTEL_TRACES_EXPORTER: 'console' }), true);
  assert.equal(tracingConfigured({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false);
  assert.equal(tracingConfigured({ OTEL_SDK_DISABLED: 'TRUE', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }), false);
});

// Loaded with `node --require @pipewright/platform/register` before any other module, so the
// instrumentations can patch grpc-js, kafkajs and pg as they are first required.
// Configured by the standard OTEL_* variables; OTEL_SDK_DISABLED=true turns it off.
import { startTelemetry } from './telemetry';

startTelemetry();

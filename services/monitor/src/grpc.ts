// gRPC status of the pipelines, pipewright.monitor.v1.Monitor: GetPipelineStatus,
// WatchPipeline (a server stream), GetConsumerLag, GetDlqCounts and ReplayDeadLetters go here,
// each calling domain functions and store.ts, never SQL.
//
// Not built yet: no method is implemented, so main.ts's withUnimplemented answers every call
// UNIMPLEMENTED (a stream ends with UNIMPLEMENTED at once).
import type { monitorV1 } from '@pipewright/proto';

export function monitorHandlers(): Partial<monitorV1.MonitorServer> {
  return {};
}

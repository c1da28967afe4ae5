// A stack for the job path's tests: the gateway, a scheduler and an executor, with clients of
// the gateway and the scheduler.
import { startStack, type Stack, type StackOptions } from './stack.js';
import type { GatewayClient, SchedulerClient } from './clients.js';

export interface JobStack {
  stack: Stack;
  gateway: GatewayClient;
  scheduler: SchedulerClient;
  stop(): Promise<void>;
}

/** startStack with `services` (default the gateway, a scheduler and an executor) and the two clients. */
export async function startJobStack({ services = ['ingest-gateway', 'scheduler', 'executor'], ...options }: StackOptions = {}): Promise<JobStack> {
  const stack = await startStack({ services, ...options });
  return { stack, gateway: stack.client('ingest-gateway'), scheduler: stack.client('scheduler'), stop: () => stack.stop() };
}

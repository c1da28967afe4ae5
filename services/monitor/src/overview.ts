// What the overview asks other services: the grpc.health.v1 status of every replica of every
// service in MONITOR_SERVICES (a host resolving to several addresses, such as a headless
// Kubernetes Service, is one replica per address), checked every MONITOR_HEALTH_INTERVAL; and
// the scheduler's jobs by status, over its gRPC API (never its tables).
import { promises as dns } from 'node:dns';
import { grpc, type CallCredentials, type Logger } from '@pipewright/platform';
import { schedulerV1 } from '@pipewright/proto';

/** grpc.health.v1.HealthCheckResponse.ServingStatus by number. */
const SERVING_STATUS = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

export interface ReplicaHealthView {
  address: string;
  /** SERVING, NOT_SERVING, UNKNOWN, SERVICE_UNKNOWN, or UNREACHABLE. */
  status: string;
  error: string;
  checkedAt: Date;
}

export interface ServiceHealthView {
  service: string;
  state: 'SERVING' | 'DEGRADED' | 'NOT_SERVING';
  replicas: ReplicaHealthView[];
}

/**
 * grpc.health.v1.Health/Check of the whole server (service ""), on a connection of its own.
 * The request is the empty message; the answer's field 1 is the status.
 */
function checkHealth(address: string, timeoutMs: number, calls: CallCredentials): Promise<string> {
  const client = new grpc.Client(address, calls.channel);
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      () => Buffer.alloc(0),
      (bytes: Buffer) => (bytes.length >= 2 && bytes[0] === 0x08 ? bytes[1] : 0),
      {},
      calls.metadata(),
      { deadline: Date.now() + timeoutMs },
      (err: grpc.ServiceError | null, status?: number) => (err ? reject(err) : resolve(SERVING_STATUS[status ?? 0] ?? 'UNKNOWN')),
    );
  }).finally(() => client.close());
}

async function replicasOf(host: string, port: number): Promise<string[]> {
  if (/^[\d.]+$/.test(host) || host.includes(':')) return [host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`];
  const addresses = await dns.lookup(host, { all: true });
  return addresses.map((a) => (a.family === 6 ? `[${a.address}]:${port}` : `${a.address}:${port}`));
}

export class HealthWatcher {
  private latest = new Map<string, ReplicaHealthView[]>();

  constructor(
    private readonly targets: Array<{ service: string; host: string; port: number }>,
    private readonly timeoutMs: number,
    private readonly logger: Logger,
    private readonly calls: CallCredentials,
  ) {}

  /** Checks every replica of every service once, at the same time. */
  async check(): Promise<void> {
    const byService = new Map<string, ReplicaHealthView[]>();
    await Promise.all(
      this.targets.map(async (t) => {
        let replicas: ReplicaHealthView[];
        try {
          const addresses = await replicasOf(t.host, t.port);
          replicas = await Promise.all(
            addresses.map(async (address) => {
              try {
                return { address, status: await checkHealth(address, this.timeoutMs, this.calls), error: '', checkedAt: new Date() };
              } catch (err) {
                return { address, status: 'UNREACHABLE', error: (err as grpc.ServiceError).details || (err as Error).message, checkedAt: new Date() };
              }
            }),
          );
        } catch (err) {
          replicas = [{ address: `${t.host}:${t.port}`, status: 'UNREACHABLE', error: (err as Error).message, checkedAt: new Date() }];
        }
        byService.set(t.service, [...(byService.get(t.service) ?? []), ...replicas]);
      }),
    );
    for (const [service, replicas] of byService) {
      const before = this.latest.get(service);
      const serving = replicas.filter((r) => r.status === 'SERVING').length;
      if (before && before.filter((r) => r.status === 'SERVING').length !== serving) this.logger.info({ service, serving, replicas: replicas.length }, 'service health changed');
    }
    this.latest = byService;
  }

  /** Every service of MONITOR_SERVICES, in its order, as last checked. */
  services(): ServiceHealthView[] {
    const names = [...new Set(this.targets.map((t) => t.service))];
    return names.map((service) => {
      const replicas = this.latest.get(service) ?? [];
      const serving = replicas.filter((r) => r.status === 'SERVING').length;
      return { service, state: serving === 0 ? 'NOT_SERVING' : serving === replicas.length ? 'SERVING' : 'DEGRADED', replicas };
    });
  }

  /** A replica of the service that answered SERVING last, else its first configured address. */
  address(service: string): string | undefined {
    const serving = this.latest.get(service)?.find((r) => r.status === 'SERVING');
    if (serving) return serving.address;
    const t = this.targets.find((x) => x.service === service);
    return t && `${t.host}:${t.port}`;
  }
}

/** The scheduler's jobs by status name (SCHEDULED, RUNNING, DONE, ...), asked over gRPC. */
export async function jobsByStatus(address: string, timeoutMs: number, calls: CallCredentials): Promise<Map<string, number>> {
  const client = new schedulerV1.SchedulerClient(address, calls.channel);
  try {
    const res = await new Promise<schedulerV1.JobCounts>((resolve, reject) =>
      client.countJobs({ appName: '' }, calls.metadata(), { deadline: Date.now() + timeoutMs }, (err, r) => (err ? reject(err) : resolve(r))),
    );
    return new Map(res.counts.map((c) => [schedulerV1.JobStatus[c.status].replace(/^JOB_STATUS_/, ''), c.count]));
  } finally {
    client.close();
  }
}

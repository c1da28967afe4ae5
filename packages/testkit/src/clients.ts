// Promise-returning gRPC clients of the services (scripts/lib/clients.mjs), typed from the
// generated protos: a unary method takes the request's top-level fields it cares about (the
// others keep their defaults) and resolves to the response.
import type { Metadata, ServiceError, status } from '@grpc/grpc-js';
import type { executorV1, ingestV1, monitorV1, ordersV1, schedulerV1, stockprocessorV1, stockscraperV1 } from '@pipewright/proto';
import * as scripts from '../../../scripts/lib/clients.mjs';

interface UnaryMethod<Request, Response> {
  readonly path: string;
  readonly requestStream: false;
  readonly responseStream: false;
  requestSerialize(value: Request): Buffer;
  responseDeserialize(value: Buffer): Response;
}

export interface CallOptions {
  /** Default 10 s. */
  deadlineMs?: number;
  metadata?: Metadata;
}

/** A client with a promise-returning function per unary method of `Definition`, and the raw grpc-js client. */
export type PromiseClient<Definition, Raw> = {
  [M in keyof Definition as Definition[M] extends UnaryMethod<unknown, unknown> ? M : never]: Definition[M] extends UnaryMethod<infer Request, infer Response>
    ? (request?: Partial<Request>, options?: CallOptions) => Promise<Response>
    : never;
} & {
  /** The grpc-js client underneath (for streaming methods); requests laid over their defaults as well. */
  readonly raw: Raw;
  close(): void;
};

export type GatewayClient = PromiseClient<typeof ingestV1.IngestGatewayService, ingestV1.IngestGatewayClient>;
export type SchedulerClient = PromiseClient<typeof schedulerV1.SchedulerService, schedulerV1.SchedulerClient>;
export type ExecutorClient = PromiseClient<typeof executorV1.ExecutorService, executorV1.ExecutorClient>;
export type OrdersClient = PromiseClient<typeof ordersV1.OrderAggregatorService, ordersV1.OrderAggregatorClient>;
export type MonitorClient = PromiseClient<typeof monitorV1.MonitorService, monitorV1.MonitorClient>;
export type StockScraperClient = PromiseClient<typeof stockscraperV1.StockScraperService, stockscraperV1.StockScraperClient>;
export type StockProcessorClient = PromiseClient<typeof stockprocessorV1.StockProcessorService, stockprocessorV1.StockProcessorClient>;

export interface Clients {
  gateway(address: string): GatewayClient;
  scheduler(address: string): SchedulerClient;
  executor(address: string): ExecutorClient;
  orders(address: string): OrdersClient;
  monitor(address: string): MonitorClient;
  stockScraper(address: string): StockScraperClient;
  stockProcessor(address: string): StockProcessorClient;
}

export const clients = scripts.clients as unknown as Clients;

/** The client of each service that has one, by service name. */
export interface ServiceClients {
  'ingest-gateway': GatewayClient;
  scheduler: SchedulerClient;
  executor: ExecutorClient;
  'order-aggregator': OrdersClient;
  monitor: MonitorClient;
  'stock-scraper': StockScraperClient;
  'stock-processor': StockProcessorClient;
}

const clientOf: { [S in keyof ServiceClients]: (address: string) => ServiceClients[S] } = {
  'ingest-gateway': clients.gateway,
  scheduler: clients.scheduler,
  executor: clients.executor,
  'order-aggregator': clients.orders,
  monitor: clients.monitor,
  'stock-scraper': clients.stockScraper,
  'stock-processor': clients.stockProcessor,
};

/** A client of `service` at `address`. */
export function clientFor<S extends keyof ServiceClients>(service: S, address: string): ServiceClients[S] {
  return clientOf[service](address);
}

/** grpc.health.v1.Health/Check of `service` ('' for the server as a whole); resolves to SERVING, NOT_SERVING, ... */
export const healthCheck: (address: string, service?: string, deadlineMs?: number) => Promise<string> = scripts.healthCheck;
/** Waits until the server at `address` reports SERVING; fails at once when isDead() says why it cannot. */
export const waitServing: (address: string, options?: { timeoutMs?: number; isDead?: () => string | undefined | false }) => Promise<void> = scripts.waitServing;
/** Service names a server lists through reflection (what `grpcurl list` shows). */
export const listServices: (address: string) => Promise<string[]> = scripts.listServices;
/** Serialized FileDescriptorProtos the server returns for a file name (with its imports). */
export const reflectFile: (address: string, filename: string) => Promise<Buffer[]> = scripts.reflectFile;
/** Serialized FileDescriptorProtos for the file defining a symbol. */
export const reflectSymbol: (address: string, symbol: string) => Promise<Buffer[]> = scripts.reflectSymbol;

/** Whether err is an error a gRPC call failed with (it has a status code). */
export const isServiceError = (err: unknown): err is ServiceError => err instanceof Error && typeof (err as Partial<ServiceError>).code === 'number';

/** The error a gRPC call fails with; fails the test if the call succeeds or fails otherwise. */
export async function rejection(call: PromiseLike<unknown>): Promise<ServiceError> {
  let result: unknown;
  try {
    result = await call;
  } catch (err) {
    if (isServiceError(err)) return err;
    throw err;
  }
  throw new Error(`expected a gRPC error, got ${JSON.stringify(result)}`);
}

/**
 * A check for assert.rejects: the call failed with gRPC status `code` and, when given, details
 * equal to `details` (a string) or matching it (a RegExp).
 */
export function grpcError(code: status, details?: string | RegExp): (err: unknown) => boolean {
  return (err) => {
    if (!isServiceError(err) || err.code !== code) return false;
    if (details === undefined) return true;
    return typeof details === 'string' ? err.details === details : details.test(err.details);
  };
}

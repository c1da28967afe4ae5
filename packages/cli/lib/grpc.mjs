// Calls to the services: one unary call, or a server stream followed until it ends or the user
// presses Ctrl-C; gRPC failures become CliErrors with the exit code that says what went wrong.
import grpc from '@grpc/grpc-js';
import healthCheckPackage from 'grpc-health-check';
import { addressOf } from './addresses.mjs';
import { CliError, EXIT } from './errors.mjs';
import { proto } from './generated.mjs';

const CLIENT_OF = {
  'ingest-gateway': proto.ingestV1.IngestGatewayClient,
  scheduler: proto.schedulerV1.SchedulerClient,
  'order-aggregator': proto.ordersV1.OrderAggregatorClient,
  monitor: proto.monitorV1.MonitorClient,
  'stock-processor': proto.stockprocessorV1.StockProcessorClient,
};

/** A client of `service` at the address the command's options say, with the bearer token as metadata. */
function open(cmd, service) {
  const opts = cmd.optsWithGlobals();
  const { address, from } = addressOf(service, opts);
  const client = new CLIENT_OF[service](address, grpc.credentials.createInsecure());
  const metadata = new grpc.Metadata();
  const token = opts.token ?? process.env.PIPEWRIGHT_TOKEN;
  if (token) metadata.set('authorization', `Bearer ${token}`);
  const failure = (err) => grpcFailure(err, service, address, from);
  return { client, metadata, failure, deadlineMs: Number(opts.timeout) };
}

/**
 * Calls unary `method` of `service` with `request` (a complete message: Type.fromPartial(...)).
 * @param {import('commander').Command} cmd
 * @param {keyof typeof CLIENT_OF} service
 * @param {string} method
 * @param {unknown} request
 * @returns {Promise<any>}
 */
export async function call(cmd, service, method, request) {
  const { client, metadata, failure, deadlineMs } = open(cmd, service);
  try {
    return await new Promise((resolve, reject) => client[method](request, metadata, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res))));
  } catch (err) {
    throw failure(err);
  } finally {
    client.close();
  }
}

/**
 * Follows server-streaming `method` of `service`: `onMessage` for each message, until the stream
 * ends (resolves 'ended'), the user presses Ctrl-C or the process is sent SIGTERM (resolves
 * 'interrupted'), or it fails (rejects with a CliError). `onMessage` may throw to stop it.
 * @param {import('commander').Command} cmd
 * @param {keyof typeof CLIENT_OF} service
 * @param {string} method
 * @param {unknown} request
 * @param {(message: any) => void} onMessage
 * @returns {Promise<'ended' | 'interrupted'>}
 */
export function follow(cmd, service, method, request, onMessage) {
  const { client, metadata, failure } = open(cmd, service);
  return new Promise((resolve, reject) => {
    const stream = client[method](request, metadata);
    let interrupted = false;
    /** @type {unknown} */
    let thrown;
    const interrupt = () => {
      interrupted = true;
      stream.cancel();
    };
    process.on('SIGINT', interrupt);
    process.on('SIGTERM', interrupt);
    let settled = false;
    const settle = (err) => {
      if (settled) return;
      settled = true;
      process.off('SIGINT', interrupt);
      process.off('SIGTERM', interrupt);
      client.close();
      if (thrown) reject(thrown);
      else if (interrupted) resolve('interrupted');
      else if (err) reject(failure(err));
      else resolve('ended');
    };
    stream.on('data', (message) => {
      if (settled || thrown) return;
      try {
        onMessage(message);
      } catch (err) {
        thrown = err;
        stream.cancel();
      }
    });
    stream.on('error', settle);
    stream.on('end', () => settle());
  });
}

/** The exit code and words of a failed call. */
function grpcFailure(err, service, address, from) {
  const s = grpc.status;
  const details = err?.details || err?.message || String(err);
  switch (err?.code) {
    case s.INVALID_ARGUMENT:
      return new CliError(`invalid argument: ${details}`, EXIT.invalid);
    case s.NOT_FOUND:
      return new CliError(`not found: ${details}`, EXIT.notFound);
    case s.FAILED_PRECONDITION:
      return new CliError(details, EXIT.precondition);
    case s.UNAVAILABLE:
    case s.DEADLINE_EXCEEDED:
      return new CliError(`cannot reach the ${service} at ${address} (${from}): start the local run with \`npm start\`, or pass --${service} host:port`, EXIT.unreachable);
    case s.UNAUTHENTICATED:
    case s.PERMISSION_DENIED:
      return new CliError(`the ${service} refused the call (${details}): pass --token or set PIPEWRIGHT_TOKEN to a token with the method's scope`);
    default:
      return new CliError(`the ${service} at ${address} failed: ${details}`);
  }
}

const HealthClient = grpc.makeGenericClientConstructor(healthCheckPackage.service, 'grpc.health.v1.Health');

/**
 * grpc.health.v1.Health/Check of the whole server at `address`: SERVING, NOT_SERVING, ...
 * @param {string} address
 * @param {number} deadlineMs
 * @returns {Promise<string>}
 */
export function healthStatus(address, deadlineMs) {
  const client = new HealthClient(address, grpc.credentials.createInsecure());
  return new Promise((resolve, reject) =>
    client.check({ service: '' }, { deadline: Date.now() + deadlineMs }, (err, res) => {
      client.close();
      if (err) reject(err);
      else resolve(res.status);
    }),
  );
}

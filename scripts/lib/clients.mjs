// Promise-returning gRPC clients for the local run, the demo and the tests.
import { createRequire } from 'node:module';
const require = createRequire(import.meta.url);
const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const { protoPath: healthProto } = require('grpc-health-check');
const proto = require('@pipewright/proto');

function promisify(client) {
  const out = { raw: client };
  for (const name of Object.keys(Object.getPrototypeOf(client))) {
    if (typeof client[name] !== 'function' || name === 'constructor') continue;
    out[name] = (req = {}, { deadlineMs = 10_000, metadata = new grpc.Metadata() } = {}) =>
      new Promise((resolve, reject) =>
        client[name](req, metadata, { deadline: Date.now() + deadlineMs }, (err, res) => (err ? reject(err) : resolve(res))),
      );
  }
  out.close = () => client.close();
  return out;
}

const insecure = () => grpc.credentials.createInsecure();

/** ts-proto encoders want complete messages; callers here pass the fields they care about,
 * which are laid over the message's defaults (top level only). */
function lenientClient(definition, name) {
  /** @type {Record<string, any>} */
  const lenient = {};
  for (const [method, def] of Object.entries(definition)) {
    const defaults = def.requestDeserialize(Buffer.alloc(0));
    lenient[method] = { ...def, requestSerialize: (v) => def.requestSerialize({ ...defaults, ...v }) };
  }
  return grpc.makeGenericClientConstructor(lenient, name);
}

const make = (definition, name) => {
  const Client = lenientClient(definition, name);
  return (addr) => promisify(new Client(addr, insecure()));
};

export const clients = {
  gateway: make(proto.ingestV1.IngestGatewayService, 'pipewright.ingest.v1.IngestGateway'),
  scheduler: make(proto.schedulerV1.SchedulerService, 'pipewright.scheduler.v1.Scheduler'),
  executor: make(proto.executorV1.ExecutorService, 'pipewright.executor.v1.Executor'),
  orders: make(proto.ordersV1.OrderAggregatorService, 'pipewright.orders.v1.OrderAggregator'),
  monitor: make(proto.monitorV1.MonitorService, 'pipewright.monitor.v1.Monitor'),
  stockScraper: make(proto.stockscraperV1.StockScraperService, 'pipewright.stockscraper.v1.StockScraper'),
  stockProcessor: make(proto.stockprocessorV1.StockProcessorService, 'pipewright.stockprocessor.v1.StockProcessor'),
};

let HealthClient;
/** grpc.health.v1.Health/Check; resolves to SERVING, NOT_SERVING, ... */
export function healthCheck(addr, service = '', deadlineMs = 2000) {
  HealthClient ??= /** @type {any} */ (grpc.loadPackageDefinition(protoLoader.loadSync(healthProto, { enums: String }))).grpc.health.v1.Health;
  const c = new HealthClient(addr, insecure());
  return new Promise((resolve, reject) =>
    c.check({ service }, { deadline: Date.now() + deadlineMs }, (err, res) => {
      c.close();
      if (err) reject(err);
      else resolve(res.status);
    }),
  );
}

export async function waitServing(addr, { timeoutMs = 60_000, isDead = () => false } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    const dead = isDead();
    if (dead) throw new Error(dead);
    try {
      last = await healthCheck(addr);
      if (last === 'SERVING') return;
    } catch (err) {
      last = /** @type {Error} */ (err).message;
    }
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${addr} did not report SERVING within ${timeoutMs} ms (last: ${last})`);
}

export { grpc };

let ReflectionClient;
/** One grpc.reflection.v1 request/answer exchange. */
function reflect(addr, request, deadlineMs = 5000) {
  if (!ReflectionClient) {
    const file = require.resolve('@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto');
    ReflectionClient = /** @type {any} */ (grpc.loadPackageDefinition(protoLoader.loadSync(file))).grpc.reflection.v1.ServerReflection;
  }
  const c = new ReflectionClient(addr, insecure());
  return new Promise((resolve, reject) => {
    const call = c.ServerReflectionInfo({ deadline: Date.now() + deadlineMs });
    call.on('data', (res) => {
      call.end();
      c.close();
      if (res.errorResponse) reject(new Error(res.errorResponse.errorMessage));
      else resolve(res);
    });
    call.on('error', (err) => { c.close(); reject(err); });
    call.write(request);
  });
}

/** Service names a server lists through reflection (what `grpcurl list` shows). */
export async function listServices(addr) {
  const res = await reflect(addr, { listServices: '' });
  return res.listServicesResponse.service.map((s) => s.name).sort();
}

/** Serialized FileDescriptorProtos the server returns for a file name (with its imports). */
export async function reflectFile(addr, filename) {
  const res = await reflect(addr, { fileByFilename: filename });
  return res.fileDescriptorResponse.fileDescriptorProto;
}

/** Serialized FileDescriptorProtos for the file defining a symbol. */
export async function reflectSymbol(addr, symbol) {
  const res = await reflect(addr, { fileContainingSymbol: symbol });
  return res.fileDescriptorResponse.fileDescriptorProto;
}

// What the tests and the benchmark share.
export { sleep, eventually, deferred, millis, type EventuallyOptions, type Truthy } from './wait.js';
export { startInfrastructure, createDatabase, makeTestDir, testDir, type Infrastructure } from './infrastructure.js';
export { startStack, writeAppsFile, type Stack, type StackOptions, type ServiceProcess, type AppConfig } from './stack.js';
export { tapTopic, groupsToEnd, messageJson, sameBytes, recordingApp, executionsPerJob, type Tap, type TappedMessage } from './topics.js';
export {
  clients,
  clientFor,
  healthCheck,
  waitServing,
  listServices,
  reflectFile,
  reflectSymbol,
  isServiceError,
  grpcError,
  rejection,
  type CallOptions,
  type Clients,
  type ServiceClients,
  type PromiseClient,
  type GatewayClient,
  type SchedulerClient,
  type ExecutorClient,
  type OrdersClient,
  type MonitorClient,
  type StockScraperClient,
  type StockProcessorClient,
} from './clients.js';
export { ROOT, LAUNCHED_SERVICES, freePort, kafkaJars, startKafka, startOtlpReceiver, type LocalKafka, type OtlpReceiver, type ReceivedSpan } from './system.js';
export { listen, startTcpRelay, type TcpRelay } from './net.js';
export { startKafkaClient, type PlatformKafka } from './platform.js';
export { startOrderStack, ORDER_GROUP, type OrderStack } from './orders.js';
export { startJobStack, type JobStack } from './jobs.js';
export { PIPELINE_TOPICS, STOCK_GROUPS } from './stocks.js';
export { browserUnavailable, launchBrowser, watchedPage, screenshot, SCREENSHOTS_DIR, type WatchedPage } from './browser.js';
export { MONITOR_GROUPS, DLQ_TOPICS } from './monitor.js';

// The repository's scripts (plain JavaScript under scripts/) that the test kit imports, and the
// types it relies on: only what the kit uses is declared. Tests reach these through the kit,
// typed by its signatures, rather than importing the scripts (and checking their JavaScript)
// themselves.

declare module '*/scripts/lib/system.mjs' {
  export const ROOT: string;
  export const SERVICES: ReadonlyArray<{ readonly name: string; readonly port: number; readonly db: boolean }>;
  export function startInfrastructure(options: { workDir: string; log?: (message: string) => void; durable?: boolean }): Promise<{ brokers: string; databaseUrl: string; stop(): Promise<void> }>;
  export function startService(
    name: string,
    options: {
      brokers: string;
      databaseUrl: string;
      env?: Record<string, string>;
      logFile?: string;
      port?: number;
      metricsPort?: number;
      otlpEndpoint?: string;
    },
  ): Promise<import('./stack.js').StartedService>;
}

declare module '*/scripts/lib/proc.mjs' {
  export function makeWorkDir(prefix: string, parent?: string): string;
  export function freePort(): Promise<number>;
}

declare module '*/scripts/lib/kafka.mjs' {
  export function ensureKafkaJars(options?: { log?: (message: string) => void }): string;
  export function startKafka(options: { dataDir: string; port?: number; controllerPort?: number; logFile?: string; heap?: string }): Promise<import('./system.js').LocalKafka>;
}

declare module '*/scripts/lib/clients.mjs' {
  export const clients: Record<'gateway' | 'scheduler' | 'executor' | 'orders' | 'monitor', (address: string) => unknown>;
  export function healthCheck(address: string, service?: string, deadlineMs?: number): Promise<string>;
  export function waitServing(address: string, options?: { timeoutMs?: number; isDead?: () => string | undefined | false }): Promise<void>;
  export function listServices(address: string): Promise<string[]>;
  export function reflectFile(address: string, filename: string): Promise<Buffer[]>;
  export function reflectSymbol(address: string, symbol: string): Promise<Buffer[]>;
}

declare module '*/scripts/lib/otlp-receiver.mjs' {
  export function startOtlpReceiver(options?: { port?: number; file?: string }): Promise<import('./system.js').OtlpReceiver>;
}

declare module '*/scripts/lib/browser.mjs' {
  export const CHROMIUM_ARGS: string[];
  export function ensureChromium(options?: { log?: (line: string) => void }): string;
}

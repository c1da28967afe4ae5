// Who may call a gRPC server, for every service: TLS (and client certificates) from files that
// are read again when they change, and bearer tokens in `authorization` metadata — static
// tokens from a file (compared in constant time) or JWTs checked against a JWKS — each carrying
// scopes: read (Get, List, Watch, Count and reflection), write (Schedule, Submit, Start) and
// control (Cancel, Pause, Resume, TriggerNow, Replay, and any method not named so). The health
// service stays open for probes.
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { createLocalJWKSet, createRemoteJWKSet, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { ConfigError, readSettingFile, setting, type ConfigOf } from './config';
import type { Logger } from './logger';
import { prom } from './metrics';

export const SCOPES = ['read', 'write', 'control'] as const;
export type Scope = (typeof SCOPES)[number];

export const grpcSecuritySettings = {
  GRPC_TLS_CERT: setting.optionalString('PEM certificate (chain) of the gRPC server; TLS when set, with GRPC_TLS_KEY; read again when the file changes'),
  GRPC_TLS_KEY: setting.optionalString('PEM private key of GRPC_TLS_CERT'),
  GRPC_TLS_CLIENT_CA: setting.optionalString('PEM CA bundle: when set, callers must present a client certificate it signed (mTLS)'),
  GRPC_AUTH: setting.oneOf('bearer-token authentication of gRPC calls: on, off, or auto (on when GRPC_TOKENS_FILE or GRPC_JWKS is set)', ['auto', 'on', 'off'] as const, { default: 'auto' }),
  GRPC_TOKENS_FILE: setting.optionalString('JSON file of static tokens: {"tokens": [{"name": "monitor", "token": "...", "scopes": ["read"]}]}'),
  GRPC_JWKS: setting.optionalString('JWKS (an https:// or http:// URL, or a file) that signs the JWTs callers present; scopes from the scope or scp claim'),
  GRPC_JWT_ISSUER: setting.optionalString('issuer (iss) the JWTs must name; required with GRPC_JWKS'),
  GRPC_JWT_AUDIENCE: setting.optionalString('audience (aud) the JWTs must name; required with GRPC_JWKS'),
};

export type GrpcSecurityConfig = ConfigOf<typeof grpcSecuritySettings> & { GRPC_HOST: string };

/** The scope a method needs, from its name; undefined for the health service (always open). */
export function scopeOf(path: string): Scope | undefined {
  const [service = '', method = ''] = path.replace(/^\//, '').split('/');
  if (service === 'grpc.health.v1.Health') return undefined;
  if (service.startsWith('grpc.reflection.')) return 'read';
  if (/^(Get|List|Watch|Count)/.test(method)) return 'read';
  if (/^(Schedule|Submit|Start)/.test(method)) return 'write';
  return 'control';
}

export interface Caller {
  name: string;
  scopes: Set<string>;
}

interface StaticToken {
  name: string;
  digest: Buffer;
  scopes: Set<string>;
}

const digest = (token: string) => createHash('sha256').update(token).digest();

/** Reads a tokens file; every entry needs a name, a token and known scopes. */
export function readTokens(file: string): StaticToken[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`GRPC_TOKENS_FILE ${file} cannot be read as JSON: ${(err as Error).message}`]);
  }
  const entries = (parsed as { tokens?: unknown }).tokens;
  if (!Array.isArray(entries) || entries.length === 0) throw new ConfigError([`GRPC_TOKENS_FILE ${file} holds no "tokens" list`]);
  return entries.map((e: { name?: unknown; token?: unknown; scopes?: unknown }, i) => {
    if (typeof e.name !== 'string' || !e.name) throw new ConfigError([`GRPC_TOKENS_FILE tokens[${i}].name: is required`]);
    if (typeof e.token !== 'string' || e.token.length < 16) throw new ConfigError([`GRPC_TOKENS_FILE tokens[${i}].token: must be a string of at least 16 characters`]);
    const scopes = Array.isArray(e.scopes) ? e.scopes : [];
    const unknown = scopes.filter((s) => !SCOPES.includes(s as Scope));
    if (scopes.length === 0 || unknown.length)
      throw new ConfigError([`GRPC_TOKENS_FILE tokens[${i}].scopes: must list some of ${SCOPES.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`]);
    return { name: e.name, digest: digest(e.token), scopes: new Set(scopes as string[]) };
  });
}

class Denied extends Error {
  constructor(
    readonly code: grpc.status,
    readonly reason: string,
    message: string,
  ) {
    super(message);
  }
}

/** Checks bearer tokens: static ones (every one compared, in constant time) and JWTs. */
export class Authenticator {
  private readonly tokens: StaticToken[];
  private readonly jwks?: JWTVerifyGetKey;

  constructor(private readonly config: GrpcSecurityConfig) {
    this.tokens = config.GRPC_TOKENS_FILE ? readTokens(config.GRPC_TOKENS_FILE) : [];
    if (config.GRPC_JWKS) {
      this.jwks = /^https?:\/\//.test(config.GRPC_JWKS)
        ? createRemoteJWKSet(new URL(config.GRPC_JWKS))
        : createLocalJWKSet(JSON.parse(readFileSync(config.GRPC_JWKS, 'utf8')) as Parameters<typeof createLocalJWKSet>[0]);
    }
  }

  async caller(metadata: grpc.Metadata): Promise<Caller> {
    const header = metadata.get('authorization')[0];
    const token = typeof header === 'string' ? /^Bearer\s+(.+)$/i.exec(header)?.[1] : undefined;
    if (!token) throw new Denied(grpc.status.UNAUTHENTICATED, 'no_token', 'a bearer token is required');
    const d = digest(token);
    let found: StaticToken | undefined;
    for (const t of this.tokens) if (timingSafeEqual(t.digest, d)) found = t;
    if (found) return { name: found.name, scopes: found.scopes };
    if (this.jwks && token.split('.').length === 3) {
      try {
        const { payload } = await jwtVerify(token, this.jwks, { issuer: this.config.GRPC_JWT_ISSUER, audience: this.config.GRPC_JWT_AUDIENCE });
        const claim = payload.scope ?? payload.scp;
        const scopes = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim.map(String) : [];
        return { name: `jwt:${payload.sub ?? '(no subject)'}`, scopes: new Set(scopes) };
      } catch {
        throw new Denied(grpc.status.UNAUTHENTICATED, 'invalid_token', 'the bearer token is not valid');
      }
    }
    throw new Denied(grpc.status.UNAUTHENTICATED, 'invalid_token', 'the bearer token is not valid');
  }
}

const LOOPBACK = (host: string) => host === 'localhost' || host === '::1' || (isIP(host) === 4 && host.startsWith('127.'));

export interface GrpcSecurity {
  credentials: grpc.ServerCredentials;
  interceptors: grpc.ServerInterceptor[];
  /** What the server's doors are, for the start-up log. */
  describe: { tls: 'off' | 'tls' | 'mtls'; auth: 'off' | 'on' };
}

/** The combinations of the settings that cannot work, found before anything starts. */
export function checkGrpcSecuritySettings(config: GrpcSecurityConfig): void {
  const problems: string[] = [];
  if (Boolean(config.GRPC_TLS_CERT) !== Boolean(config.GRPC_TLS_KEY)) problems.push('GRPC_TLS_CERT and GRPC_TLS_KEY go together: set both or neither');
  if (config.GRPC_TLS_CLIENT_CA && !config.GRPC_TLS_CERT) problems.push('GRPC_TLS_CLIENT_CA needs GRPC_TLS_CERT and GRPC_TLS_KEY (client certificates are checked over TLS)');
  if (config.GRPC_AUTH === 'on' && !config.GRPC_TOKENS_FILE && !config.GRPC_JWKS) problems.push('GRPC_AUTH is on but neither GRPC_TOKENS_FILE nor GRPC_JWKS is set');
  if (config.GRPC_JWKS) for (const k of ['GRPC_JWT_ISSUER', 'GRPC_JWT_AUDIENCE'] as const) if (!config[k]) problems.push(`${k} is required when GRPC_JWKS is set`);
  if (problems.length) throw new ConfigError(problems);
}

/** Whether calls must carry a bearer token: GRPC_AUTH on, or auto with a token source set. */
export function grpcAuthOn(config: Pick<GrpcSecurityConfig, 'GRPC_AUTH' | 'GRPC_TOKENS_FILE' | 'GRPC_JWKS'>): boolean {
  return config.GRPC_AUTH === 'on' || (config.GRPC_AUTH === 'auto' && Boolean(config.GRPC_TOKENS_FILE || config.GRPC_JWKS));
}

/** Builds the server's credentials and its authentication interceptor from the settings; a wrong combination fails start-up. */
export function grpcSecurity(config: GrpcSecurityConfig, logger: Logger, registry?: prom.Registry): GrpcSecurity {
  checkGrpcSecuritySettings(config);
  let credentials = grpc.ServerCredentials.createInsecure();
  if (config.GRPC_TLS_CERT && config.GRPC_TLS_KEY) {
    for (const [name, file] of Object.entries({ GRPC_TLS_CERT: config.GRPC_TLS_CERT, GRPC_TLS_KEY: config.GRPC_TLS_KEY, GRPC_TLS_CLIENT_CA: config.GRPC_TLS_CLIENT_CA })) {
      if (file) readSettingFile(name, file);
    }
    // Read again every few seconds: a rotated Secret is served without a restart.
    const provider = new grpc.experimental.FileWatcherCertificateProvider({
      certificateFile: config.GRPC_TLS_CERT,
      privateKeyFile: config.GRPC_TLS_KEY,
      caCertificateFile: config.GRPC_TLS_CLIENT_CA,
      refreshIntervalMs: 5000,
    });
    credentials = grpc.experimental.createCertificateProviderServerCredentials(provider, config.GRPC_TLS_CLIENT_CA ? provider : null, Boolean(config.GRPC_TLS_CLIENT_CA));
  }
  const authOn = grpcAuthOn(config);
  const describe: GrpcSecurity['describe'] = { tls: config.GRPC_TLS_CLIENT_CA ? 'mtls' : config.GRPC_TLS_CERT ? 'tls' : 'off', auth: authOn ? 'on' : 'off' };
  if (!authOn) {
    if (config.GRPC_AUTH === 'auto' && !LOOPBACK(config.GRPC_HOST)) logger.warn({ host: config.GRPC_HOST }, 'gRPC calls are not authenticated: set GRPC_TOKENS_FILE or GRPC_JWKS (and GRPC_AUTH=on)');
    return { credentials, interceptors: [], describe };
  }
  const auth = new Authenticator(config);
  const denied = new prom.Counter({
    name: 'grpc_auth_denied_total',
    help: 'gRPC calls refused: no or invalid token (unauthenticated), or a token without the scope (permission_denied)',
    labelNames: ['method', 'reason'],
    registers: registry ? [registry] : [],
  });
  const interceptor: grpc.ServerInterceptor = (method, call) => {
    const scope = scopeOf(method.path);
    if (!scope) return new grpc.ServerInterceptingCall(call);
    return new grpc.ServerInterceptingCall(call, {
      start: (next) =>
        next({
          onReceiveMetadata: (metadata, mdNext) => {
            let caller: string | undefined;
            auth
              .caller(metadata)
              .then((c) => {
                caller = c.name;
                if (!c.scopes.has(scope)) throw new Denied(grpc.status.PERMISSION_DENIED, 'permission_denied', `this call needs the ${scope} scope`);
                mdNext(metadata);
              })
              .catch((err: unknown) => {
                const d = err instanceof Denied ? err : new Denied(grpc.status.UNAUTHENTICATED, 'invalid_token', 'the bearer token is not valid');
                denied.inc({ method: method.path, reason: d.reason });
                // The caller's identity when known, never the token.
                logger.warn({ method: method.path, reason: d.reason, caller }, 'gRPC call refused');
                call.sendStatus({ code: d.code, details: d.message });
              });
          },
        }),
    });
  };
  return { credentials, interceptors: [interceptor], describe };
}

/** For a service that calls other pipewright services (the monitor): how its calls authenticate. */
export const grpcCallSettings = {
  GRPC_CALL_TOKEN_FILE: setting.optionalString('file holding the bearer token sent on calls to other pipewright services (read again when it changes)'),
  GRPC_CALL_CA: setting.optionalString('PEM CA bundle: calls to other pipewright services go over TLS, their certificates checked against it'),
  GRPC_CALL_CERT: setting.optionalString('PEM client certificate presented on those calls, for servers that ask for one (mTLS); with GRPC_CALL_KEY'),
  GRPC_CALL_KEY: setting.optionalString('PEM private key of GRPC_CALL_CERT'),
};

export type GrpcCallConfig = ConfigOf<typeof grpcCallSettings>;

export interface CallCredentials {
  channel: grpc.ChannelCredentials;
  /** The call's metadata: the bearer token when one is configured. */
  metadata(): grpc.Metadata;
}

/** Channel credentials and per-call metadata for calls to other services, from the settings. */
export function grpcCallCredentials(config: GrpcCallConfig): CallCredentials {
  if (Boolean(config.GRPC_CALL_CERT) !== Boolean(config.GRPC_CALL_KEY)) throw new ConfigError(['GRPC_CALL_CERT and GRPC_CALL_KEY go together: set both or neither']);
  let channel = grpc.credentials.createInsecure();
  if (config.GRPC_CALL_CA) {
    channel = grpc.credentials.createSsl(
      readSettingFile('GRPC_CALL_CA', config.GRPC_CALL_CA),
      config.GRPC_CALL_KEY ? readSettingFile('GRPC_CALL_KEY', config.GRPC_CALL_KEY) : null,
      config.GRPC_CALL_CERT ? readSettingFile('GRPC_CALL_CERT', config.GRPC_CALL_CERT) : null,
    );
  } else if (config.GRPC_CALL_CERT) throw new ConfigError(['GRPC_CALL_CERT needs GRPC_CALL_CA (client certificates are presented over TLS)']);
  const tokenFile = config.GRPC_CALL_TOKEN_FILE;
  if (tokenFile) readSettingFile('GRPC_CALL_TOKEN_FILE', tokenFile);
  // Read again at most every few seconds: a rotated Secret is used without a restart.
  let token = '';
  let readAt = 0;
  return {
    channel,
    metadata() {
      const md = new grpc.Metadata();
      if (!tokenFile) return md;
      if (Date.now() - readAt > 5000) {
        token = readFileSync(tokenFile, 'utf8').trim();
        readAt = Date.now();
      }
      md.set('authorization', `Bearer ${token}`);
      return md;
    },
  };
}

// Who is using the dashboard. When gRPC authentication is on, a user logs in with a token that
// the monitor's own verifier accepts (the static tokens of GRPC_TOKENS_FILE, or a JWT of
// GRPC_JWKS); the session cookie (HttpOnly, SameSite=Strict, Secure over TLS) stands for it,
// and every call made on the user's behalf carries that token, so its scopes apply. A request
// that changes state must come from the dashboard's own origin and carry the session's CSRF token.
// What keeps calling for a session (its open event streams) is ended with it: at log out, at
// expiry, or when the oldest session makes room.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Authenticator, grpc, type GrpcSecurityConfig } from '@pipewright/platform';

export const SESSION_COOKIE = 'pipewright_session';
/** A session lasts this long after the user's last request. */
const IDLE_MS = 8 * 3600_000;
/** Most sessions kept: the oldest goes first. */
const MAX_SESSIONS = 10_000;

export interface Session {
  id: string;
  /** The bearer token the user logged in with; sent on every call made for them. */
  token: string;
  /** The token's name (static tokens) or jwt:<subject>. */
  user: string;
  scopes: string[];
  /** Sent back in the X-CSRF-Token header of every state-changing request. */
  csrf: string;
  seenAt: number;
}

export class LoginRefused extends Error {}

export class Sessions {
  private readonly sessions = new Map<string, Session>();
  /** By session id: what ends the calls made for it. */
  private readonly closers = new Map<string, Set<() => void>>();
  private readonly authenticator?: Authenticator;

  constructor(config: GrpcSecurityConfig, authOn: boolean) {
    if (authOn) this.authenticator = new Authenticator(config);
  }

  /** Whether the dashboard asks for a token. */
  get required(): boolean {
    return this.authenticator !== undefined;
  }

  /** Checks the token with the gRPC servers' verifier and opens a session for it. */
  async login(token: string): Promise<Session> {
    if (!this.authenticator) throw new LoginRefused('authentication is off: no login is needed');
    const md = new grpc.Metadata();
    md.set('authorization', `Bearer ${token.trim()}`);
    let caller;
    try {
      caller = await this.authenticator.caller(md);
    } catch {
      throw new LoginRefused('that token was not accepted');
    }
    const session: Session = {
      id: randomBytes(32).toString('base64url'),
      token: token.trim(),
      user: caller.name,
      scopes: [...caller.scopes].sort(),
      csrf: randomBytes(24).toString('base64url'),
      seenAt: Date.now(),
    };
    if (this.sessions.size >= MAX_SESSIONS) this.drop(this.sessions.keys().next().value as string);
    this.sessions.set(session.id, session);
    return session;
  }

  /** The request's session, when its cookie names one that has not expired. */
  of(req: IncomingMessage): Session | undefined {
    const id = cookies(req)[SESSION_COOKIE];
    const session = id ? this.sessions.get(id) : undefined;
    if (!session) return undefined;
    if (Date.now() - session.seenAt > IDLE_MS) {
      this.drop(session.id);
      return undefined;
    }
    session.seenAt = Date.now();
    // Most recently used last, so that the oldest is dropped first.
    this.sessions.delete(session.id);
    this.sessions.set(session.id, session);
    return session;
  }

  /** Logs the request's session out. */
  end(req: IncomingMessage): void {
    const id = cookies(req)[SESSION_COOKIE];
    if (id) this.drop(id);
  }

  /** Ends the sessions unused for longer than they last (run every minute or so). */
  expire(now = Date.now()): void {
    for (const s of [...this.sessions.values()]) if (now - s.seenAt > IDLE_MS) this.drop(s.id);
  }

  /** Runs `close` when the session ends; returns a function that forgets it (once it closed by itself). */
  onEnd(session: Session, close: () => void): () => void {
    if (!this.sessions.has(session.id)) {
      close();
      return () => {};
    }
    let set = this.closers.get(session.id);
    if (!set) this.closers.set(session.id, (set = new Set()));
    set.add(close);
    return () => {
      set.delete(close);
      if (set.size === 0 && this.closers.get(session.id) === set) this.closers.delete(session.id);
    };
  }

  private drop(id: string): void {
    this.sessions.delete(id);
    const closers = this.closers.get(id);
    this.closers.delete(id);
    for (const close of closers ?? []) close();
  }
}

function cookies(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out[part.slice(0, i).trim()] = part.slice(i + 1).trim();
  }
  return out;
}

/** Served over TLS: by the socket itself, or by the proxy in front (X-Forwarded-Proto). */
export function overTls(req: IncomingMessage): boolean {
  const forwarded = String(req.headers['x-forwarded-proto'] ?? '')
    .split(',')[0]
    .trim();
  return Boolean((req.socket as { encrypted?: boolean }).encrypted) || forwarded === 'https';
}

/** The Set-Cookie value of a session (maxAge 0 clears it). */
export function sessionCookie(value: string, req: IncomingMessage, maxAgeS = Math.floor(IDLE_MS / 1000)): string {
  return `${SESSION_COOKIE}=${value}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${overTls(req) ? '; Secure' : ''}`;
}

/**
 * Why a state-changing request is refused as cross-site, or undefined when it is not: its Origin
 * must be the dashboard's own (scheme aside, the Host it was sent to); without an Origin, the
 * browser's Sec-Fetch-Site must not say cross-site; with a session, its CSRF token must match.
 */
export function crossSiteRefusal(req: IncomingMessage, session: Session | undefined): string | undefined {
  const origin = req.headers.origin;
  const host = String(req.headers['x-forwarded-host'] ?? req.headers.host ?? '')
    .split(',')[0]
    .trim();
  if (origin !== undefined) {
    let originHost: string;
    try {
      originHost = new URL(origin).host;
    } catch {
      return `the request's Origin (${origin}) is not the dashboard's`;
    }
    if (originHost !== host) return `the request's Origin (${origin}) is not the dashboard's`;
  } else if (['cross-site', 'same-site'].includes(String(req.headers['sec-fetch-site']))) {
    return 'the request comes from another site';
  }
  if (session) {
    const sent = Buffer.from(String(req.headers['x-csrf-token'] ?? ''));
    const expected = Buffer.from(session.csrf);
    if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) return "the request does not carry the session's CSRF token";
  }
  return undefined;
}

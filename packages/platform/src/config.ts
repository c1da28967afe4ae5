// Settings come from the environment, are read once at start-up, and are validated together:
// every missing or malformed setting is reported by name before anything else starts.
import { readFileSync } from 'node:fs';

export interface Setting<T> {
  readonly kind: string;
  readonly description: string;
  /** True when start-up fails without the setting. */
  readonly required: boolean;
  /** The value used when the variable is absent, as it would be written in the environment. */
  readonly defaultRaw?: string;
  readonly secret: boolean;
  /** An earlier name of the setting, still read when the current one is not set. */
  readonly formerly?: string;
  parse(raw: string): T;
  absent(): T;
}

export type SettingsSpec = Record<string, Setting<unknown>>;
export type ConfigOf<S extends SettingsSpec> = { readonly [K in keyof S]: S[K] extends Setting<infer T> ? T : never };

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  ${problems.join('\n  ')}`);
    this.name = 'ConfigError';
  }
}

/** A file a setting names, read now: one that cannot be read stops start-up with the setting's name. */
export function readSettingFile(name: string, file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new ConfigError([`${name} ${file} cannot be read: ${(err as Error).message}`]);
  }
}

class Missing extends Error {}

interface Options<T> {
  default?: T;
  secret?: boolean;
}

function make<T>(kind: string, description: string, parse: (raw: string) => T, opts: Options<T> & { optional?: boolean }, show: (v: T) => string = String): Setting<T> {
  const hasDefault = opts.default !== undefined;
  return {
    kind,
    description,
    required: !hasDefault && !opts.optional,
    defaultRaw: hasDefault ? show(opts.default as T) : undefined,
    secret: opts.secret ?? false,
    parse,
    absent() {
      if (hasDefault) return opts.default as T;
      if (opts.optional) return undefined as T;
      throw new Missing();
    },
  };
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

function parseInt10(raw: string, min: number, max: number): number {
  if (!/^-?\d+$/.test(raw.trim())) throw new Error(`expected an integer, got "${raw}"`);
  const n = Number(raw.trim());
  if (n < min || n > max) throw new Error(`expected an integer from ${min} to ${max}, got ${n}`);
  return n;
}

/** 500ms, 30s, 15m, 24h or 7d (a bare number is milliseconds), as milliseconds. */
export function parseDuration(raw: string, minMs = 0, maxMs = Number.MAX_SAFE_INTEGER): number {
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?$/.exec(raw.trim());
  if (!m) throw new Error(`expected a duration such as 30s, 15m or 24h, got "${raw}"`);
  const ms = Math.round(Number(m[1]) * DURATION_UNITS[m[2] ?? 'ms']);
  if (ms < minMs) throw new Error(`expected at least ${minMs} ms, got "${raw}"`);
  if (ms > maxMs) throw new Error(`expected at most ${maxMs} ms, got "${raw}"`);
  return ms;
}

export const setting = {
  string(description: string, opts: Options<string> = {}): Setting<string> {
    return make(
      'string',
      description,
      (raw) => {
        if (raw.trim() === '') throw new Error('must not be empty');
        return raw;
      },
      opts,
    );
  },
  /**
   * A duration such as 500ms, 30s, 15m, 24h or 7d (a bare number is milliseconds); read as
   * milliseconds. `formerly` names the setting's earlier name (a number of milliseconds such as
   * SCHEDULER_MAX_IDLE_MS), still read when the new one is not set.
   */
  duration(description: string, opts: { default?: string; minMs?: number; maxMs?: number; formerly?: string } = {}): Setting<number> {
    const parse = (raw: string) => parseDuration(raw, opts.minMs, opts.maxMs);
    // The default is documented as written (24h), used as milliseconds.
    const made = make('duration', description, parse, { default: opts.default === undefined ? undefined : parse(opts.default) }, () => opts.default as string);
    return opts.formerly ? { ...made, formerly: opts.formerly } : made;
  },
  /** Comma-separated durations (1m,1h), read as milliseconds in the order written; "none" is the empty list when allowEmpty. */
  durations(description: string, opts: { default: string; minMs?: number; maxMs?: number; allowEmpty?: boolean; maxItems?: number }): Setting<number[]> {
    const parse = (raw: string): number[] => {
      if (opts.allowEmpty && raw.trim() === 'none') return [];
      const items = raw
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      if (items.length === 0) throw new Error(`expected comma-separated durations such as 1m,1h${opts.allowEmpty ? ', or none' : ''}`);
      if (opts.maxItems !== undefined && items.length > opts.maxItems) throw new Error(`expected at most ${opts.maxItems} durations, got ${items.length}`);
      return items.map((x) => parseDuration(x, opts.minMs, opts.maxMs));
    };
    return make('durations', description, parse, { default: parse(opts.default) }, () => opts.default);
  },
  /** A number from 0 to 1, such as 0.05. */
  fraction(description: string, opts: { default: number }): Setting<number> {
    const parse = (raw: string): number => {
      const n = Number(raw.trim());
      if (raw.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new Error(`expected a number from 0 to 1, got "${raw}"`);
      return n;
    };
    return make('fraction', description, parse, opts);
  },
  /** An IANA time zone name, such as Europe/Paris or UTC. */
  zone(description: string, opts: Options<string> = {}): Setting<string> {
    return make(
      'zone',
      description,
      (raw) => {
        const zone = raw.trim();
        try {
          new Intl.DateTimeFormat('en-US', { timeZone: zone });
        } catch {
          throw new Error(`"${raw}" is not an IANA time zone (such as UTC or Europe/Paris)`);
        }
        return zone;
      },
      opts,
    );
  },
  optionalString(description: string, opts: { secret?: boolean } = {}): Setting<string | undefined> {
    return make<string | undefined>('string', description, (raw) => (raw.trim() === '' ? undefined : raw), { ...opts, optional: true });
  },
  int(description: string, opts: Options<number> & { min?: number; max?: number } = {}): Setting<number> {
    const min = opts.min ?? Number.MIN_SAFE_INTEGER;
    const max = opts.max ?? Number.MAX_SAFE_INTEGER;
    return make('int', description, (raw) => parseInt10(raw, min, max), opts);
  },
  port(description: string, opts: Options<number> = {}): Setting<number> {
    return make('port', description, (raw) => parseInt10(raw, 0, 65535), opts);
  },
  bool(description: string, opts: Options<boolean> = {}): Setting<boolean> {
    return make(
      'bool',
      description,
      (raw) => {
        const v = raw.trim().toLowerCase();
        if (['true', '1', 'yes', 'on'].includes(v)) return true;
        if (['false', '0', 'no', 'off'].includes(v)) return false;
        throw new Error(`expected true or false, got "${raw}"`);
      },
      opts,
    );
  },
  oneOf<V extends string>(description: string, values: readonly V[], opts: Options<V> = {}): Setting<V> {
    return make(
      'enum',
      `${description} (${values.join(' | ')})`,
      (raw) => {
        const v = raw.trim() as V;
        if (!values.includes(v)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
        return v;
      },
      opts,
    );
  },
  optionalOneOf<V extends string>(description: string, values: readonly V[]): Setting<V | undefined> {
    return make<V | undefined>(
      'enum',
      `${description} (${values.join(' | ')})`,
      (raw) => {
        const v = raw.trim() as V;
        if (v === '') return undefined;
        if (!values.includes(v)) throw new Error(`expected one of ${values.join(', ')}, got "${raw}"`);
        return v;
      },
      { optional: true },
    );
  },
  list(description: string, opts: Options<string[]> = {}): Setting<string[]> {
    return make(
      'list',
      `${description} (comma-separated)`,
      (raw) => {
        const items = raw
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean);
        if (items.length === 0) throw new Error('expected at least one comma-separated value');
        return items;
      },
      opts,
      (v) => v.join(','),
    );
  },
  url(description: string, opts: Options<string> = {}): Setting<string> {
    return make(
      'url',
      description,
      (raw) => {
        try {
          new URL(raw);
        } catch {
          throw new Error('expected a URL');
        }
        return raw;
      },
      opts,
    );
  },
};

/** Reads every setting of the spec from env; throws one ConfigError naming each bad setting. */
export function loadConfig<S extends SettingsSpec>(spec: S, env: NodeJS.ProcessEnv = process.env): ConfigOf<S> {
  const out: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, s] of Object.entries(spec)) {
    const read = env[name] === undefined && s.formerly && env[s.formerly] !== undefined ? s.formerly : name;
    const raw = env[read];
    try {
      out[name] = raw === undefined || (raw === '' && !s.required) ? s.absent() : s.parse(raw);
    } catch (err) {
      if (err instanceof Missing) problems.push(`${name} is required but not set: ${s.description}`);
      else problems.push(`${read} is malformed: ${(err as Error).message} (${s.description})`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return out as ConfigOf<S>;
}

export interface SettingDescription {
  name: string;
  kind: string;
  required: boolean;
  default?: string;
  secret: boolean;
  description: string;
  formerly?: string;
}

/** The declared settings of a spec, for documentation and for checking deployments against it. */
export function describeSettings(spec: SettingsSpec): SettingDescription[] {
  return Object.entries(spec).map(([name, s]) => ({
    name,
    kind: s.kind,
    required: s.required,
    default: s.defaultRaw,
    secret: s.secret,
    description: s.description,
    ...(s.formerly ? { formerly: s.formerly } : {}),
  }));
}

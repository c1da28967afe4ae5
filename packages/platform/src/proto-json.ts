// The proto3 JSON mapping, driven by descriptors (a FileDescriptorSet as `buf build` writes it in
// JSON), between JSON and the objects the ts-proto code in @pipewright/proto encodes and decodes
// (useDate, forceLong=number, Buffer for bytes, Struct and Value as plain JSON, oneof members
// as optional properties). Reading JSON checks every value against its field's type and names
// the field of the first that does not fit, as INVALID_ARGUMENT does: "jobs[0].app_name".
// Writing JSON writes every scalar, list and map (defaults included), int64 as decimal text,
// enums by name and timestamps in RFC 3339; an unset message field is left out.

export interface FieldDescriptor {
  name: string;
  number: number;
  label?: 'LABEL_OPTIONAL' | 'LABEL_REPEATED' | 'LABEL_REQUIRED';
  type: string;
  typeName?: string;
  jsonName?: string;
  oneofIndex?: number;
  proto3Optional?: boolean;
}

export interface MessageDescriptor {
  name: string;
  field?: FieldDescriptor[];
  nestedType?: MessageDescriptor[];
  enumType?: EnumDescriptor[];
  options?: { mapEntry?: boolean };
}

export interface EnumDescriptor {
  name: string;
  value?: Array<{ name: string; number: number }>;
}

export interface MethodDescriptor {
  name: string;
  inputType: string;
  outputType: string;
  serverStreaming?: boolean;
  clientStreaming?: boolean;
  options?: Record<string, unknown>;
}

export interface FileDescriptor {
  name: string;
  package?: string;
  messageType?: MessageDescriptor[];
  enumType?: EnumDescriptor[];
  service?: Array<{ name: string; method?: MethodDescriptor[] }>;
}

export interface DescriptorSet {
  file: FileDescriptor[];
}

/** A value that does not fit its field: field is the path of proto field names. */
export class FieldError extends Error {
  constructor(
    readonly field: string,
    readonly problem: string,
  ) {
    super(`${field}: ${problem}`);
    this.name = 'FieldError';
  }
}

interface Field extends FieldDescriptor {
  json: string;
  repeated: boolean;
  /** Unset is distinct from the default: proto3 optional and oneof members. */
  presence: boolean;
  map?: { key: Field; value: Field };
}

interface MessageType {
  fullName: string;
  fields: Field[];
  byName: Map<string, Field>;
}

const INT32 = new Set(['TYPE_INT32', 'TYPE_SINT32', 'TYPE_SFIXED32']);
const UINT32 = new Set(['TYPE_UINT32', 'TYPE_FIXED32']);
const INT64 = new Set(['TYPE_INT64', 'TYPE_SINT64', 'TYPE_SFIXED64', 'TYPE_UINT64', 'TYPE_FIXED64']);
const FLOAT = new Set(['TYPE_DOUBLE', 'TYPE_FLOAT']);
const WRAPPERS = new Set(['DoubleValue', 'FloatValue', 'Int64Value', 'UInt64Value', 'Int32Value', 'UInt32Value', 'BoolValue', 'StringValue', 'BytesValue'].map((n) => `.google.protobuf.${n}`));
const WRAPPED: Record<string, string> = {
  DoubleValue: 'TYPE_DOUBLE',
  FloatValue: 'TYPE_FLOAT',
  Int64Value: 'TYPE_INT64',
  UInt64Value: 'TYPE_UINT64',
  Int32Value: 'TYPE_INT32',
  UInt32Value: 'TYPE_UINT32',
  BoolValue: 'TYPE_BOOL',
  StringValue: 'TYPE_STRING',
  BytesValue: 'TYPE_BYTES',
};

/** The proto3 JSON name protoc derives from a field name: app_name -> appName. */
export const jsonNameOf = (name: string): string => name.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (path: string, name: string) => (path ? `${path}.${name}` : name);

/** The messages and enums of a descriptor set, by full name (".pkg.Message"). */
export class ProtoTypes {
  private readonly messages = new Map<string, MessageType>();
  private readonly enums = new Map<string, { byName: Map<string, number>; byNumber: Map<number, string> }>();
  private readonly raw = new Map<string, MessageDescriptor>();

  constructor(set: DescriptorSet) {
    for (const file of set.file) {
      const prefix = file.package ? `.${file.package}` : '';
      for (const e of file.enumType ?? []) this.addEnum(`${prefix}.${e.name}`, e);
      for (const m of file.messageType ?? []) this.addMessage(`${prefix}.${m.name}`, m);
    }
  }

  private addEnum(fullName: string, e: EnumDescriptor): void {
    const values = e.value ?? [];
    this.enums.set(fullName, { byName: new Map(values.map((v) => [v.name, v.number])), byNumber: new Map(values.map((v) => [v.number, v.name])) });
  }

  private addMessage(fullName: string, m: MessageDescriptor): void {
    this.raw.set(fullName, m);
    for (const e of m.enumType ?? []) this.addEnum(`${fullName}.${e.name}`, e);
    for (const n of m.nestedType ?? []) this.addMessage(`${fullName}.${n.name}`, n);
  }

  has(fullName: string): boolean {
    return this.raw.has(fullName);
  }

  /** A message type by full name, its fields resolved (map entries recognised). */
  message(fullName: string): MessageType {
    const known = this.messages.get(fullName);
    if (known) return known;
    const m = this.raw.get(fullName);
    if (!m) throw new Error(`no message ${fullName} in the descriptors`);
    const fields = (m.field ?? []).map((f): Field => {
      const entry = f.typeName ? this.raw.get(f.typeName) : undefined;
      const base: Field = {
        ...f,
        json: f.jsonName ?? jsonNameOf(f.name),
        repeated: f.label === 'LABEL_REPEATED',
        presence: f.proto3Optional === true || (f.oneofIndex !== undefined && f.label !== 'LABEL_REPEATED'),
      };
      if (base.repeated && entry?.options?.mapEntry) {
        const [key, value] = (entry.field ?? []).map((x) => ({ ...x, json: x.jsonName ?? jsonNameOf(x.name), repeated: false, presence: false }));
        return { ...base, repeated: false, map: { key, value } };
      }
      return base;
    });
    const type: MessageType = { fullName, fields, byName: new Map() };
    for (const f of fields) {
      type.byName.set(f.name, f);
      type.byName.set(f.json, f);
    }
    this.messages.set(fullName, type);
    return type;
  }

  enumNumber(typeName: string, v: unknown, path: string): number {
    const e = this.enums.get(typeName);
    if (!e) throw new Error(`no enum ${typeName} in the descriptors`);
    if (typeof v === 'string' && e.byName.has(v)) return e.byName.get(v) as number;
    if (typeof v === 'number' && Number.isInteger(v)) return v;
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return Number(v);
    throw new FieldError(path, `must be one of ${[...e.byName.keys()].join(', ')}`);
  }

  enumName(typeName: string, n: number): string | number {
    return this.enums.get(typeName)?.byNumber.get(n) ?? n;
  }

  /** The object of an empty message: every field at its default, as ts-proto's decode gives. */
  empty(fullName: string): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.message(fullName).fields) out[jsonNameOf(f.name)] = this.defaultOf(f);
    return out;
  }

  private defaultOf(f: Field): unknown {
    if (f.map) return {};
    if (f.repeated) return [];
    if (f.presence || f.type === 'TYPE_MESSAGE') return undefined;
    if (f.type === 'TYPE_STRING') return '';
    if (f.type === 'TYPE_BOOL') return false;
    if (f.type === 'TYPE_BYTES') return Buffer.alloc(0);
    return 0;
  }

  /** The field a name (proto or JSON name) stands for in a message, or undefined. */
  field(fullName: string, name: string): Field | undefined {
    return this.message(fullName).byName.get(name);
  }

  /** JSON of a message (an object) into the ts-proto object; path prefixes field names in errors. */
  fromJson(fullName: string, json: unknown, path = ''): Record<string, unknown> {
    if (!isObject(json)) throw new FieldError(path || '(body)', 'must be a JSON object');
    const out = this.empty(fullName);
    const type = this.message(fullName);
    for (const [key, value] of Object.entries(json)) {
      const f = type.byName.get(key);
      if (!f) throw new FieldError(at(path, key), `is not a field of ${fullName.slice(1)}`);
      if (value === null && f.typeName !== '.google.protobuf.Value') continue;
      out[jsonNameOf(f.name)] = this.fieldFromJson(f, value, at(path, f.name));
    }
    return out;
  }

  /** One field's JSON value (a list or map for such fields) into its object form. */
  fieldFromJson(f: Field, value: unknown, path: string): unknown {
    if (f.map) {
      if (!isObject(value)) throw new FieldError(path, 'must be a JSON object');
      const m: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) m[k] = this.singleFromJson(f.map.value, v, `${path}[${JSON.stringify(k)}]`);
      return m;
    }
    if (f.repeated) {
      if (!Array.isArray(value)) throw new FieldError(path, 'must be a JSON array');
      return value.map((v, i) => this.singleFromJson(f, v, `${path}[${i}]`));
    }
    return this.singleFromJson(f, value, path);
  }

  private singleFromJson(f: Pick<Field, 'type' | 'typeName'>, v: unknown, path: string): unknown {
    const t = f.type;
    if (t === 'TYPE_STRING') {
      if (typeof v !== 'string') throw new FieldError(path, 'must be a string');
      return v;
    }
    if (t === 'TYPE_BOOL') {
      if (typeof v !== 'boolean') throw new FieldError(path, 'must be true or false');
      return v;
    }
    if (INT32.has(t) || UINT32.has(t) || INT64.has(t)) {
      const n = typeof v === 'number' ? v : typeof v === 'string' && /^-?\d+(\.0*)?$/.test(v.trim()) ? Number(v) : NaN;
      if (!Number.isInteger(n)) throw new FieldError(path, 'must be an integer');
      const [min, max] = INT32.has(t) ? [-(2 ** 31), 2 ** 31 - 1] : UINT32.has(t) ? [0, 2 ** 32 - 1] : [Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER];
      if (n < min || n > max || (t.includes('UINT') && n < 0)) throw new FieldError(path, `must be from ${min} to ${max}`);
      return n;
    }
    if (FLOAT.has(t)) {
      if (typeof v === 'number') return v;
      if (v === 'NaN') return NaN;
      if (v === 'Infinity') return Infinity;
      if (v === '-Infinity') return -Infinity;
      if (typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v))) return Number(v);
      throw new FieldError(path, 'must be a number');
    }
    if (t === 'TYPE_BYTES') {
      if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new FieldError(path, 'must be base64 text');
      return Buffer.from(v, v.includes('-') || v.includes('_') ? 'base64url' : 'base64');
    }
    if (t === 'TYPE_ENUM') return this.enumNumber(f.typeName as string, v, path);
    const name = f.typeName as string;
    if (name === '.google.protobuf.Timestamp') {
      const d = typeof v === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,9})?(Z|[+-]\d\d:\d\d)$/i.test(v) ? new Date(v) : new Date(NaN);
      if (Number.isNaN(d.getTime())) throw new FieldError(path, 'must be an RFC 3339 time such as 2026-01-31T09:00:00Z');
      return d;
    }
    if (name === '.google.protobuf.Struct') {
      if (!isObject(v)) throw new FieldError(path, 'must be a JSON object');
      return v;
    }
    if (name === '.google.protobuf.Value') return v;
    if (name === '.google.protobuf.ListValue') {
      if (!Array.isArray(v)) throw new FieldError(path, 'must be a JSON array');
      return v;
    }
    if (WRAPPERS.has(name)) return this.singleFromJson({ type: WRAPPED[name.split('.').pop() as string] }, v, path);
    return this.fromJson(name, v, path);
  }

  /** A ts-proto object of a message as JSON. */
  toJson(fullName: string, obj: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const f of this.message(fullName).fields) {
      const v = obj[jsonNameOf(f.name)];
      if (v === undefined || v === null) continue;
      if (f.map) {
        out[f.json] = Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, this.singleToJson(f.map!.value, x)]));
      } else if (f.repeated) {
        out[f.json] = (v as unknown[]).map((x) => this.singleToJson(f, x));
      } else {
        out[f.json] = this.singleToJson(f, v);
      }
    }
    return out;
  }

  private singleToJson(f: Pick<Field, 'type' | 'typeName'>, v: unknown): unknown {
    const t = f.type;
    if (INT64.has(t)) return String(v);
    if (FLOAT.has(t)) return Number.isFinite(v) ? v : String(v);
    if (t === 'TYPE_BYTES') return Buffer.from(v as Uint8Array).toString('base64');
    if (t === 'TYPE_ENUM') return this.enumName(f.typeName as string, v as number);
    if (t !== 'TYPE_MESSAGE') return v;
    const name = f.typeName as string;
    if (name === '.google.protobuf.Timestamp') return (v as Date).toISOString();
    if (name === '.google.protobuf.Struct' || name === '.google.protobuf.Value' || name === '.google.protobuf.ListValue') return v;
    if (WRAPPERS.has(name)) return this.singleToJson({ type: WRAPPED[name.split('.').pop() as string] }, v);
    return this.toJson(name, v as Record<string, unknown>);
  }
}

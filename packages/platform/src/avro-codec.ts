// Avro on Kafka, in the two wire formats producers use: plain Avro binary (the schema agreed out
// of band), or the Confluent framing — magic byte 0, the writer schema's registry id (4 bytes,
// big-endian), then the Avro body — when a schema registry is used. Readers resolve the writer's
// schema by its id and read it as their own (reader) schema, so an order written with an older
// or newer compatible schema decodes. The registry protocol is @kafkajs/confluent-schema-registry's.
import { SchemaRegistry, SchemaType } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { setting } from './config';
import { InvalidMessageError } from './dead-letter';

export const schemaRegistrySettings = {
  SCHEMA_REGISTRY_URL: setting.optionalString(
    'a Confluent-compatible schema registry (for Apicurio: http://host:8080/apis/ccompat/v7); Avro is read and written in the Confluent framing when set, as plain Avro binary when unset',
  ),
};

const MAGIC = 0;
const HEADER_BYTES = 5;

export interface AvroCodec<T> {
  readonly framing: 'plain' | 'confluent';
  /** The writer schema's registry id (Confluent framing only). */
  readonly schemaId?: number;
  encode(value: T): Buffer;
  /**
   * Fetches the writer schemas these values were written with that are not known yet, so that
   * decode() of each is synchronous. An id the registry does not know is remembered as unknown
   * (its messages fail to decode); a registry that cannot be reached throws, to be retried.
   */
  load(values: Array<Buffer | null>): Promise<void>;
  /** Throws InvalidMessageError for bytes that are not one value of the schema. */
  decode(bytes: Buffer | null): T;
}

export interface AvroCodecOptions {
  schema: avro.Schema;
  /** Plain framing only: earlier writer schemas, tried in turn for bytes the schema cannot read. */
  olderSchemas?: avro.Schema[];
  /** Subject the writer schema is registered under, e.g. `orders-value`. */
  subject: string;
  registryUrl?: string;
  /** Writers register the schema at start-up; readers only look schemas up. */
  register?: boolean;
}

const isNotFound = (err: unknown) => (err as { status?: number } | undefined)?.status === 404;

/** Plain Avro binary when no registry URL is given, else the Confluent framing through the registry. */
export async function avroCodec<T>(opts: AvroCodecOptions): Promise<AvroCodec<T>> {
  const reader = avro.Type.forSchema(opts.schema);
  const decodeWith = (type: avro.Type, bytes: Buffer, resolver?: avro.Resolver): T => {
    try {
      return type.fromBuffer(bytes, resolver) as T;
    } catch (err) {
      throw new InvalidMessageError(`not a valid ${reader.name ?? 'Avro value'}: ${(err as Error).message}`);
    }
  };
  if (!opts.registryUrl) {
    const older = (opts.olderSchemas ?? []).map((schema) => reader.createResolver(avro.Type.forSchema(schema)));
    return {
      framing: 'plain',
      encode: (value) => reader.toBuffer(value),
      load: async () => undefined,
      decode: (bytes) => {
        if (!bytes) throw new InvalidMessageError('the message has no value');
        try {
          return decodeWith(reader, bytes);
        } catch (err) {
          // Bytes of an earlier schema end early (or go on) for this one: read them as written.
          for (const resolver of older) {
            try {
              return decodeWith(reader, bytes, resolver);
            } catch {
              // not this one either
            }
          }
          throw err;
        }
      },
    };
  }
  const registry = new SchemaRegistry({ host: opts.registryUrl.replace(/\/+$/, ''), clientId: 'pipewright', retry: { retries: 2 } });
  let schemaId: number | undefined;
  if (opts.register) {
    ({ id: schemaId } = await registry.register({ type: SchemaType.AVRO, schema: JSON.stringify(opts.schema) }, { subject: opts.subject }));
  }
  // Per writer schema id: how to read it as the reader schema, or null when the registry does not know the id.
  const resolvers = new Map<number, avro.Resolver | null>();
  const idOf = (bytes: Buffer | null) => (bytes && bytes.length >= HEADER_BYTES && bytes[0] === MAGIC ? bytes.readUInt32BE(1) : undefined);
  const resolve = async (id: number) => {
    try {
      const schema = await registry.getSchema(id);
      resolvers.set(id, reader.createResolver(avro.Type.forSchema(JSON.parse(JSON.stringify(schema)) as avro.Schema)));
    } catch (err) {
      if (isNotFound(err)) resolvers.set(id, null);
      else if (err instanceof Error && /resolve|incompatible/i.test(err.message)) resolvers.set(id, null);
      else throw err;
    }
  };
  return {
    framing: 'confluent',
    schemaId,
    encode: (value) => {
      if (schemaId === undefined) throw new Error(`the codec of ${opts.subject} reads only: it registered no schema`);
      const header = Buffer.alloc(HEADER_BYTES);
      header[0] = MAGIC;
      header.writeUInt32BE(schemaId, 1);
      return Buffer.concat([header, reader.toBuffer(value)]);
    },
    load: async (values) => {
      const ids = new Set<number>();
      for (const v of values) {
        const id = idOf(v);
        if (id !== undefined && !resolvers.has(id)) ids.add(id);
      }
      for (const id of ids) await resolve(id);
    },
    decode: (bytes) => {
      const id = idOf(bytes);
      if (!bytes || id === undefined) throw new InvalidMessageError('not in the Confluent wire format (magic byte 0, schema id, Avro body)');
      const known = resolvers.get(id);
      if (known === undefined) throw new Error(`schema ${id} was not loaded before decode`);
      if (known === null) throw new InvalidMessageError(`unknown schema id ${id} (not in the registry, or not compatible with the reader schema)`);
      return decodeWith(reader, bytes.subarray(HEADER_BYTES), known);
    },
  };
}

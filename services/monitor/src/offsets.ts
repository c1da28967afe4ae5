// Records of Kafka's __consumer_offsets topic, where group coordinators keep committed offsets:
// the monitor reads them, as Burrow does, to see every commit of every group with the time the
// coordinator took it. Only offset commits are decoded; group metadata and the records of the
// newer group protocols (key types 2 and up) are not commits and are skipped.
//
// Key (big-endian): int16 record type (0 and 1: an offset commit), string group, string topic,
// int32 partition; strings are int16 length + UTF-8. Value: int16 version, int64 offset, then
// int32 leader epoch (version 3 and up), metadata (int16-length string; from version 4 an
// unsigned-varint length + 1), int64 commit timestamp, int64 expire timestamp (version 1 only),
// tagged fields (version 4). A null value deletes the group's offset of that partition.

export const CONSUMER_OFFSETS_TOPIC = '__consumer_offsets';

export type OffsetRecord =
  { kind: 'commit'; group: string; topic: string; partition: number; offset: bigint; commitTime: number } | { kind: 'delete'; group: string; topic: string; partition: number };

class Reader {
  private pos = 0;
  constructor(private readonly buf: Buffer) {}

  int16(): number {
    const v = this.buf.readInt16BE(this.pos);
    this.pos += 2;
    return v;
  }

  int32(): number {
    const v = this.buf.readInt32BE(this.pos);
    this.pos += 4;
    return v;
  }

  int64(): bigint {
    const v = this.buf.readBigInt64BE(this.pos);
    this.pos += 8;
    return v;
  }

  uvarint(): number {
    let result = 0;
    for (let shift = 0; shift < 35; shift += 7) {
      const b = this.buf[this.pos++];
      if (b === undefined) throw new RangeError('varint past the end');
      result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
    }
    throw new RangeError('varint too long');
  }

  bytes(n: number): Buffer {
    if (n < 0 || this.pos + n > this.buf.length) throw new RangeError('string past the end');
    const out = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return out;
  }

  string(): string {
    return this.bytes(this.int16()).toString('utf8');
  }

  compactString(): string {
    return this.bytes(this.uvarint() - 1).toString('utf8');
  }
}

/** The offset commit (or deletion) a record of __consumer_offsets holds; undefined for any other record. */
export function decodeOffsetRecord(key: Buffer | null, value: Buffer | null): OffsetRecord | undefined {
  if (!key || key.length < 2) return undefined;
  try {
    const k = new Reader(key);
    const type = k.int16();
    if (type !== 0 && type !== 1) return undefined;
    const group = k.string();
    const topic = k.string();
    const partition = k.int32();
    if (!value) return { kind: 'delete', group, topic, partition };
    const v = new Reader(value);
    const version = v.int16();
    if (version < 0 || version > 4) return undefined;
    const offset = v.int64();
    if (version >= 3) v.int32();
    if (version >= 4) v.compactString();
    else v.string();
    const commitTime = Number(v.int64());
    return { kind: 'commit', group, topic, partition, offset, commitTime };
  } catch {
    return undefined;
  }
}

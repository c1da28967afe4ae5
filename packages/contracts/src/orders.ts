// Orders on TOPICS.orders, keyed by orderId. On the wire an order is Avro, written with
// packages/contracts/avro/order.avsc: plain Avro binary, or the Confluent framing (magic byte 0,
// a 4-byte schema id, the Avro body) when a schema registry is used (see the platform's
// avro-codec). Failed orders go to TOPICS.ordersDlq as the original record's bytes, unchanged,
// with the dead-letter headers.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import avro from 'avsc';

export interface Order {
  orderId: string;
  product: string;
  /** Unit price (Avro float). */
  price: number;
  /** Defaults to 1 for orders written without it. */
  quantity: number;
  /** Defaults to "USD" for orders written without it. */
  currency: string;
  customerId?: string | null;
  /** When the order was placed, milliseconds since the epoch (Avro timestamp-millis). */
  createdAt?: number | null;
}

/** The schema file, as JSON: what the gateway registers and every reader resolves against. */
export const ORDER_SCHEMA_FILE = join(__dirname, '..', 'avro', 'order.avsc');
export const orderSchema: avro.Schema = JSON.parse(readFileSync(ORDER_SCHEMA_FILE, 'utf8')) as avro.Schema;
export const orderType = avro.Type.forSchema(orderSchema);
/**
 * Earlier versions of the schema that producers still write as plain Avro binary (which says
 * nothing of its writer): a reader that cannot read a record as order.avsc tries these.
 */
export const olderOrderSchemas: avro.Schema[] = [JSON.parse(readFileSync(join(__dirname, '..', 'avro', 'order-v1.avsc'), 'utf8')) as avro.Schema];

/** Plain Avro binary, as existing producers write it. Throws on a value that does not fit the schema. */
export function encodeOrder(order: Partial<Order> & Pick<Order, 'orderId' | 'product' | 'price'>): Buffer {
  return orderType.toBuffer({ quantity: 1, currency: 'USD', customerId: null, createdAt: null, ...order });
}

/** Why an order that decoded cannot be counted, or undefined when it can. */
export function orderRuleViolation(order: Order): string | undefined {
  if (!order.orderId) return 'orderId: is required';
  if (!order.product) return 'product: is required';
  if (!Number.isFinite(order.price) || order.price < 0) return `price: must be a finite number >= 0 (got ${Number.isFinite(order.price) ? priceDecimal(order.price) : order.price})`;
  if (!Number.isInteger(order.quantity) || order.quantity < 1) return `quantity: must be a whole number >= 1 (got ${order.quantity})`;
  return undefined;
}

/**
 * The price as exact decimal text: the shortest decimal that reads back as the same 32-bit
 * float, so that a price written as 19.99 is counted as 19.99 (not 19.9899997711181640625).
 */
export function priceDecimal(price: number): string {
  const f = Math.fround(price);
  for (let digits = 1; digits < 9; digits += 1) {
    const text = f.toPrecision(digits);
    if (Math.fround(Number(text)) === f) return plainDecimal(text);
  }
  return plainDecimal(f.toPrecision(9));
}

/** "1.5e+3" → "1500", "2.5e-7" → "0.00000025": what PostgreSQL's numeric and people read. */
function plainDecimal(text: string): string {
  const m = /^(-?)(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(text);
  if (!m) return text;
  const [, sign, lead, frac = '', expText] = m;
  const digits = lead + frac;
  const exp = Number(expText);
  const point = 1 + exp;
  if (point <= 0) return `${sign}0.${'0'.repeat(-point)}${digits}`;
  if (point >= digits.length) return `${sign}${digits}${'0'.repeat(point - digits.length)}`;
  return `${sign}${digits.slice(0, point)}.${digits.slice(point)}`;
}

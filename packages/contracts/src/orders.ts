// Orders on TOPICS.orders, keyed by orderId. On the wire an order is Avro, written with
// packages/contracts/avro/order.avsc (plain Avro binary, or the Confluent framing when a schema
// registry is used); this is its shape once decoded. Failed orders go to TOPICS.ordersDlq as
// the original record's bytes, unchanged, with the dead-letter headers.
//
// Types only: encoding and decoding are not built yet.

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

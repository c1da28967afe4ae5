// SubmitOrders' orders: checked field by field (the error names the field, orders[3].price),
// then written as the Avro record Order the aggregator reads.
import { invalidArgument } from '@pipewright/platform';
import type { Order } from '@pipewright/contracts';
import type { ingestV1 } from '@pipewright/proto';

/** Largest finite 32-bit float: a larger price cannot be carried by the Avro float. */
const FLOAT_MAX = 3.4028234663852886e38;
const MAX_ID_CHARS = 256;

export function orderFromRequest(req: ingestV1.Order, prefix: string): Order {
  const field = (name: string) => `${prefix}${name}`;
  if (!req.orderId) throw invalidArgument(field('order_id'), 'is required');
  if (req.orderId.length > MAX_ID_CHARS) throw invalidArgument(field('order_id'), `must be at most ${MAX_ID_CHARS} characters`);
  if (!req.product) throw invalidArgument(field('product'), 'is required');
  if (!Number.isFinite(req.price) || req.price < 0 || req.price > FLOAT_MAX) throw invalidArgument(field('price'), 'must be a finite number >= 0');
  if (req.quantity < 0) throw invalidArgument(field('quantity'), 'must be >= 0 (0 means 1)');
  if (req.currency && !/^[A-Z]{3}$/.test(req.currency)) throw invalidArgument(field('currency'), 'must be a three-letter ISO 4217 code such as USD');
  return {
    orderId: req.orderId,
    product: req.product,
    price: req.price,
    quantity: req.quantity || 1,
    currency: req.currency || 'USD',
    customerId: req.customerId || null,
    createdAt: req.createdAt ? req.createdAt.getTime() : null,
  };
}

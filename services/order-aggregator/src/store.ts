// All SQL of the order-aggregator goes here, one named function per operation, over its tables
// in the `orders` schema: running and windowed aggregates per product, the consumed offset of
// each partition (advanced by compare-and-set in the same transaction as the aggregates), and
// recently counted order ids for dedupe.
//
// Not built yet: the service has no tables and runs no SQL today.

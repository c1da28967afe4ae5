// All SQL of the stock-processor goes here, one named function per operation, over its tables
// in the `stock` schema: quotes and ratios keyed by (run id, symbol), written idempotently, and
// the screener's queries over them.
//
// Not built yet: the service has no tables and runs no SQL today.

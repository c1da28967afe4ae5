// What the stock-processor consumes goes here: one ProcessingTask per symbol from
// `stock-processing-tasks`, keyed by symbol (types in packages/contracts/src/stock-tasks.ts).
// For each it computes the symbol's ratios, stores the quote and ratios keyed by (run id,
// symbol) through store.ts, and publishes a ProcessingCompletion to `processing-completion`,
// or a ProcessingError to `processing-errors`; a task that cannot be decoded goes to the DLQ.
//
// Not built yet: the service does not consume anything today.

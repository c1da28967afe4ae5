// All SQL of the monitor goes here, one named function per operation, over its tables in the
// `monitor` schema: run progress per run and stage (sent, completed, failed, started and
// finished times, recent errors), lag observations and replay records.
//
// Not built yet: the service has no tables and runs no SQL today.

#!/usr/bin/env node
// pipewright: the command-line tool over the services' public gRPC APIs (see docs/cli.md). The
// commands are in ../lib; this loads them so that even a failure to load is one line.
try {
  const { main } = await import('../lib/program.mjs');
  process.exitCode = await main(process.argv);
} catch (err) {
  console.error(`pipewright: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = typeof err?.code === 'number' ? err.code : 1;
}

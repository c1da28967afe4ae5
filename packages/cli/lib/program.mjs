// The pipewright command: global options, every command, and how a run ends (its exit code).
import { Command, CommanderError, Option } from 'commander';
import { envName } from './addresses.mjs';
import { CliError, EXIT, outcome } from './errors.mjs';
import { SERVICE_LIST } from './generated.mjs';
import * as dlq from './commands/dlq.mjs';
import * as jobs from './commands/jobs.mjs';
import * as lag from './commands/lag.mjs';
import * as orders from './commands/orders.mjs';
import * as status from './commands/status.mjs';
import * as stock from './commands/stock.mjs';

function program() {
  const p = new Command('pipewright')
    .description("pipewright's command-line tool: jobs, orders, stock runs, consumer lag, dead letters and service health over the services' gRPC APIs")
    .exitOverride()
    .showHelpAfterError('(pipewright --help for usage)')
    .option('--json', 'print the response as JSON (read commands; one object per line for watches)')
    .option('--token <token>', 'bearer token sent as authorization metadata (default: PIPEWRIGHT_TOKEN)')
    .option('--timeout <ms>', 'deadline of each call in milliseconds', '10000');
  for (const s of SERVICE_LIST) p.addOption(new Option(`--${s.name} <host:port>`, `address of the ${s.name} (default: ${envName(s.name)}, the local run's, 127.0.0.1:${s.grpcPort})`));
  for (const commands of [status, jobs, orders, stock, lag, dlq]) commands.register(p);
  return p;
}

/**
 * Runs the command line `argv` (as process.argv); resolves to the exit code. Errors are one line
 * on stderr.
 * @param {string[]} argv
 */
export async function main(argv) {
  try {
    await program().parseAsync(argv);
    return outcome.exitCode;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Commander has printed its message (or the help, or the version) already.
      if (err.exitCode === 0 || err.code === 'commander.help' || err.code === 'commander.helpDisplayed' || err.code === 'commander.version') return EXIT.ok;
      return EXIT.invalid;
    }
    if (err instanceof CliError) {
      console.error(`pipewright: ${err.message}`);
      return err.code;
    }
    console.error(`pipewright: ${err instanceof Error ? err.message : String(err)}`);
    return EXIT.other;
  }
}

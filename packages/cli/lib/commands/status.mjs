// status: every service's grpc.health.v1 status and address.
import { addressOf } from '../addresses.mjs';
import { EXIT, outcome, usage } from '../errors.mjs';
import { SERVICE_LIST } from '../generated.mjs';
import { healthStatus } from '../grpc.mjs';
import { table } from '../output.mjs';

/** @param {import('commander').Command} program */
export function register(program) {
  program
    .command('status')
    .description("every service's grpc.health.v1 status and address (exit 5 when one cannot be reached)")
    .argument('[services...]', 'only these services')
    .action(async (only, _o, cmd) => {
      const opts = cmd.optsWithGlobals();
      for (const name of only) if (!SERVICE_LIST.some((s) => s.name === name)) throw usage(`no service is called "${name}" (services: ${SERVICE_LIST.map((s) => s.name).join(', ')})`);
      const chosen = SERVICE_LIST.filter((s) => only.length === 0 || only.includes(s.name));
      const services = await Promise.all(
        chosen.map(async (s) => {
          const { address, from } = addressOf(s.name, opts);
          try {
            return { service: s.name, address, from, status: await healthStatus(address, Math.min(Number(opts.timeout), 3000)) };
          } catch (err) {
            return { service: s.name, address, from, status: 'UNREACHABLE', error: err.details || err.message };
          }
        }),
      );
      if (opts.json) console.log(JSON.stringify({ services }, null, 2));
      else
        console.log(
          table(
            ['SERVICE', 'STATUS', 'ADDRESS', 'FROM'],
            services.map((s) => [s.service, s.status, s.address, s.from]),
          ),
        );
      const down = services.filter((s) => s.status === 'UNREACHABLE');
      if (down.length) {
        console.error(`pipewright: ${down.map((s) => s.service).join(', ')} cannot be reached: start the local run with \`npm start\`, or pass --<service> host:port`);
        outcome.exitCode = EXIT.unreachable;
      } else if (!services.every((s) => s.status === 'SERVING')) outcome.exitCode = EXIT.other;
    });
}

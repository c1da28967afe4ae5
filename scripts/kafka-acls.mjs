// The Kafka ACLs of every service (scripts/lib/kafka-acls.mjs), for a cluster without Strimzi:
//
//   node scripts/kafka-acls.mjs                       kafka-acls.sh commands, one service after another
//   node scripts/kafka-acls.mjs --user-prefix prod-   users prod-scheduler, prod-executor, ...
//   node scripts/kafka-acls.mjs --apps apps.json      the executor's ACLs for that app registry
//   node scripts/kafka-acls.mjs --markdown | --json   the table itself
//   node scripts/kafka-acls.mjs --write-docs          rewrites the table in docs/security.md
//
// Run the commands with BOOTSTRAP (the brokers) and ADMIN_CONFIG (a client properties file of
// a user allowed to alter ACLs) set, e.g. `node scripts/kafka-acls.mjs | BOOTSTRAP=… ADMIN_CONFIG=… sh -e`.
import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { aclCommands, aclMarkdown, docsBlock, kafkaAcls, readApps, DEFAULT_APPS_FILE } from './lib/kafka-acls.mjs';
import { withBlock } from './gen-charts.mjs';

const USAGE = 'usage: node scripts/kafka-acls.mjs [--user-prefix <prefix>] [--apps <registry.json>] [--tool <kafka-acls.sh path>] [--markdown | --json | --write-docs]';

let args;
try {
  args = parseArgs({
    options: {
      'user-prefix': { type: 'string', default: 'pipewright-' },
      apps: { type: 'string', default: DEFAULT_APPS_FILE },
      tool: { type: 'string', default: 'kafka-acls.sh' },
      markdown: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      'write-docs': { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
  }).values;
} catch (err) {
  console.error(`${err instanceof Error ? err.message : err}\n${USAGE}`);
  process.exit(2);
}
if (args.help) {
  console.log(USAGE);
  process.exit(0);
}

let apps;
try {
  apps = readApps(args.apps);
} catch (err) {
  console.error(`cannot read the app registry ${args.apps}: ${err instanceof Error ? err.message : err}`);
  process.exit(2);
}
const table = kafkaAcls({ apps, userPrefix: args['user-prefix'] });
if (args['write-docs']) {
  const block = docsBlock();
  writeFileSync(block.file, withBlock(readFileSync(block.file, 'utf8'), block));
  console.log(`wrote ${block.file}`);
} else if (args.json) console.log(JSON.stringify(table, null, 2));
else if (args.markdown) console.log(aclMarkdown(table).join('\n'));
else {
  console.log('# Kafka ACLs of pipewright: one SCRAM user per service (create the users first, e.g.');
  console.log('# kafka-configs.sh --alter --add-config "SCRAM-SHA-512=[password=…]" --entity-type users --entity-name <user>).');
  console.log(aclCommands(table, { tool: args.tool }).join('\n'));
}

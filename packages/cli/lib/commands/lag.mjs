// lag: consumer groups with their lag and status, one group per partition, or either live.
import { CliError, EXIT } from '../errors.mjs';
import { proto } from '../generated.mjs';
import { call, follow } from '../grpc.mjs';
import { enumName, jsonLine, liveTable, output, table, time } from '../output.mjs';

const { monitorV1 } = proto;
const lagStatus = enumName(monitorV1.lagStatusToJSON, 'LAG_STATUS_');

const partitionTable = (l) =>
  table(
    ['TOPIC', 'PARTITION', 'LAG', 'COMMITTED', 'END', 'STATUS', 'LAST COMMIT'],
    l.partitions.map((p) => [p.topic, String(p.partition), String(p.lag), String(p.committedOffset), String(p.endOffset), lagStatus(p.status), time(p.lastCommitTime)]),
  );
const groupLine = (l) => `${l.groupId}: ${lagStatus(l.status)}, lag ${l.total} (max ${l.maxLag}, ${l.maxLagSeconds.toFixed(1)} s)`;

const WATCH_HEADER = ['GROUP', 'STATUS', 'LAG', 'MAX LAG', 'MAX LAG S', 'PARTITIONS', 'EVALUATED'];
const watchRow = (l) => [l.groupId, lagStatus(l.status), String(l.total), String(l.maxLag), l.maxLagSeconds.toFixed(1), String(l.partitions.length), time(l.evaluatedAt)];

/** @param {import('commander').Command} program */
export function register(program) {
  program
    .command('lag')
    .description("consumer groups with their lag and status, or one group's lag per partition (the monitor); --watch follows them until Ctrl-C")
    .argument('[group]')
    .option('--watch', 'follow the lag as it changes (WatchConsumerLag): a table redrawn on a terminal, a line per change otherwise, a JSON object per line with --json')
    .action(async (group, o, cmd) => {
      if (o.watch) return watchLag(cmd, group);
      if (group) {
        const res = await call(cmd, 'monitor', 'getConsumerLag', monitorV1.GetConsumerLagRequest.fromPartial({ groupId: group }));
        output(cmd, monitorV1.ConsumerLag, res, (l) => `${groupLine(l)}\n${partitionTable(l)}`);
        return;
      }
      const res = await call(cmd, 'monitor', 'listConsumerGroups', monitorV1.ListConsumerGroupsRequest.fromPartial({}));
      output(cmd, monitorV1.ListConsumerGroupsResponse, res, (r) =>
        table(
          ['GROUP', 'STATUS', 'LAG', 'MAX LAG', 'STATE', 'MEMBERS', 'TOPICS'],
          r.groups.map((g) => [g.groupId, lagStatus(g.status), String(g.totalLag), String(g.maxLag), g.state, String(g.members), g.topics.join(',')]),
        ),
      );
    });
}

async function watchLag(cmd, group) {
  // The stream waits for a group it does not know: an unknown one is said at once instead.
  if (group) await call(cmd, 'monitor', 'getConsumerLag', monitorV1.GetConsumerLagRequest.fromPartial({ groupId: group }));
  const json = cmd.optsWithGlobals().json;
  const view = liveTable(WATCH_HEADER, (row) => `${row[6]}  ${row[0]}  ${row[1]}  lag ${row[2]}  max ${row[3]} (${row[4]} s)  ${row[5]} partitions`);
  const how = await follow(cmd, 'monitor', 'watchConsumerLag', monitorV1.WatchConsumerLagRequest.fromPartial({ groupIds: group ? [group] : [] }), (l) => {
    if (json) jsonLine(monitorV1.ConsumerLag.toJSON(l));
    else view.update(l.groupId, watchRow(l));
  });
  if (how === 'ended') throw new CliError('the monitor ended the lag stream (is it shutting down?)', EXIT.other);
}

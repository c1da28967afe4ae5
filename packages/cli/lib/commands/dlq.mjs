// dlq: dead letters listed, one shown with its headers and payload decoded, and replayed to the
// topic they came from (asking first on a terminal).
import { createInterface } from 'node:readline/promises';
import { date, deadLetterId, deadLetterName, int } from '../args.mjs';
import { CliError, EXIT, usage } from '../errors.mjs';
import { proto } from '../generated.mjs';
import { call } from '../grpc.mjs';
import { enumName, fields, more, output, table, time } from '../output.mjs';

const { monitorV1 } = proto;
const { ReplayOutcome } = monitorV1;
const encodingName = enumName(monitorV1.payloadEncodingToJSON, 'PAYLOAD_ENCODING_');

const origin = (d) => (d.originalTopic ? `${d.originalTopic}[${d.originalPartition}]@${d.originalOffset}` : '');

/** The filter options of list and replay, as the request fields. */
const filterOf = (o) => ({ originalTopic: o.originalTopic ?? '', errorContains: o.error ?? '', from: o.from, to: o.to });
const hasFilter = (o) => Boolean(o.originalTopic || o.error || o.from || o.to);

/** @param {import('commander').Command} command */
const withFilters = (command) =>
  command
    .option('--original-topic <topic>', 'that came from this topic')
    .option('--error <text>', 'whose error message contains this text (case-insensitive)')
    .option('--from <time>', 'dead-lettered at or after', date('--from'))
    .option('--to <time>', 'dead-lettered before', date('--to'));

/** @param {import('commander').Command} program */
export function register(program) {
  const dlq = program.command('dlq').description('dead letters (the monitor): list, show one, replay');

  withFilters(dlq.command('list').description('dead letters, newest first').argument('[topic]', 'of this DLQ topic (default: every one)'))
    .option('--limit <n>', 'page size (default 50)', int('--limit'))
    .option('--page-token <token>', 'the next page of an earlier list')
    .action(async (topic, o, cmd) => {
      const req = monitorV1.ListDeadLettersRequest.fromPartial({ dlqTopic: topic ?? '', ...filterOf(o), pageSize: o.limit ?? 0, pageToken: o.pageToken ?? '' });
      const res = await call(cmd, 'monitor', 'listDeadLetters', req);
      output(
        cmd,
        monitorV1.ListDeadLettersResponse,
        res,
        (r) =>
          table(
            ['ID', 'DEAD-LETTERED', 'FROM', 'KEY', 'REPLAYED', 'ERROR'],
            r.deadLetters.map((d) => [deadLetterName(d), time(d.deadLetteredAt), origin(d), d.keyText, d.replay ? d.replay.state : '', d.errorMessage]),
          ) + more(r.nextPageToken),
      );
    });

  dlq
    .command('show')
    .description('one dead letter with its headers and its payload, decoded where possible')
    .argument('<id>', '<dlq topic>:<partition>:<offset>, as dlq list shows it')
    .action(async (id, _o, cmd) => {
      const d = await findDeadLetter(cmd, deadLetterId(id));
      output(cmd, monitorV1.DeadLetter, d, describe);
    });

  withFilters(
    dlq
      .command('replay')
      .description('send dead letters again to the topic they came from: the ones named, or every one of a DLQ topic that matches the filters (asks first on a terminal)')
      .argument('<targets...>', 'dead letters (<dlq topic>:<partition>:<offset>, of one DLQ topic), or one DLQ topic to replay what matches the filters'),
  )
    .option('--target-topic <topic>', 'send them here instead of their original-topic header')
    .option('--force', 'send again those replayed before')
    .option('--max <n>', 'most dead letters replayed (default 1000, at most 10000)', int('--max'))
    .option('--rate <n>', 'most messages per second (default: the monitor’s MONITOR_REPLAY_RATE)', int('--rate'))
    .option('-y, --yes', 'do not ask first')
    .action(async (targets, o, cmd) => replay(cmd, targets, o));
}

/**
 * The dead letter at the id's partition and offset, looked for page by page through its DLQ
 * topic (exit 3 when it is not there).
 */
async function findDeadLetter(cmd, ref) {
  let pageToken = '';
  do {
    const page = await call(cmd, 'monitor', 'listDeadLetters', monitorV1.ListDeadLettersRequest.fromPartial({ dlqTopic: ref.topic, pageSize: 500, pageToken }));
    const found = page.deadLetters.find((d) => d.partition === ref.partition && d.offset === ref.offset);
    if (found) return found;
    pageToken = page.nextPageToken;
  } while (pageToken);
  throw new CliError(`no dead letter ${ref.topic}:${ref.partition}:${ref.offset}: the monitor holds none at that partition and offset (pipewright dlq list ${ref.topic})`, EXIT.notFound);
}

/** Bytes as hex and printable ASCII, 16 a line. */
function hexDump(bytes) {
  const lines = [];
  for (let i = 0; i < bytes.length; i += 16) {
    const chunk = bytes.subarray(i, i + 16);
    const hex = [...chunk].map((b) => b.toString(16).padStart(2, '0')).join(' ');
    const text = [...chunk].map((b) => (b >= 0x20 && b < 0x7f ? String.fromCharCode(b) : '.')).join('');
    lines.push(`${i.toString(16).padStart(8, '0')}  ${hex.padEnd(47)}  ${text}`);
  }
  return lines.join('\n');
}

/** Bytes as UTF-8 text when they are, else undefined. */
function utf8(bytes) {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return undefined;
  }
}

const indent = (text) => text.replace(/^/gm, '  ');

/** What a payload says: its JSON (an order's fields), its text, or its bytes in hex. */
function payloadText(d) {
  if (d.json !== undefined) return `${encodingName(d.encoding).toLowerCase().replace('_', ' ')}, decoded:\n${indent(JSON.stringify(d.json, null, 2))}`;
  if (d.raw && d.raw.length) {
    const text = utf8(d.raw);
    return text !== undefined && !/[\u0000-\u0008\u000e-\u001f]/.test(text) ? `text (not JSON):\n${indent(text)}` : `binary, ${d.raw.length} bytes:\n${indent(hexDump(d.raw))}`;
  }
  return d.size ? `not kept: ${d.size} bytes, too large for the DLQ` : 'none (a null value)';
}

const headerText = (h) => {
  if (!h.binary) return h.value;
  const bytes = Buffer.from(h.value, 'base64');
  return `(binary) ${[...bytes].map((b) => b.toString(16).padStart(2, '0')).join(' ')}`;
};

const replayText = (r) =>
  r
    ? `${r.state}${r.targetTopic ? ` to ${r.targetTopic}[${r.targetPartition}]@${r.targetOffset}` : ''} at ${time(r.replayedAt)}, ${r.times} time${r.times === 1 ? '' : 's'}${r.error ? `: ${r.error}` : ''}`
    : 'never';

function describe(d) {
  const key = d.key.length === 0 ? '' : d.keyText || `(binary) ${d.key.toString('hex')}`;
  const head = fields([
    ['id', deadLetterName(d)],
    ['dead-lettered', time(d.deadLetteredAt)],
    ['from', origin(d)],
    ['error', d.errorMessage],
    ['error time', time(d.errorTime)],
    ['attempts', d.attempts || ''],
    ['key', key],
    ['size', `${d.size} bytes`],
    ['replayed', replayText(d.replay)],
  ]);
  const headers = d.headers.length
    ? table(
        ['HEADER', 'VALUE'],
        d.headers.map((h) => [h.name, headerText(h)]),
      )
    : '(none)';
  return `${head}\n\nheaders:\n${indent(headers)}\n\npayload: ${payloadText(d)}`;
}

// replay ---------------------------------------------------------------------------------------

/** Which dead letters a replay is about: named ones of one DLQ topic, or a DLQ topic and filters. */
function replayRequest(targets, o) {
  const named = targets.filter((t) => t.includes(':'));
  const base = { targetTopic: o.targetTopic ?? '', force: Boolean(o.force), maxMessages: o.max ?? 0, ratePerSecond: o.rate ?? 0 };
  if (named.length === 0) {
    if (targets.length > 1) throw usage(`replay names dead letters (<dlq topic>:<partition>:<offset>) or one DLQ topic, not ${targets.length} topics`);
    return monitorV1.ReplayDeadLettersRequest.fromPartial({ dlqTopic: targets[0], ...filterOf(o), ...base });
  }
  if (named.length < targets.length) throw usage(`replay names dead letters or one DLQ topic, not both: ${targets.filter((t) => !t.includes(':')).join(', ')}`);
  if (hasFilter(o)) throw usage('--original-topic, --error, --from and --to choose what a DLQ topic replays; named dead letters are replayed as named');
  const refs = named.map(deadLetterId);
  const topics = [...new Set(refs.map((r) => r.topic))];
  if (topics.length > 1) throw usage(`the dead letters of one DLQ topic at a time, not ${topics.join(' and ')}`);
  return monitorV1.ReplayDeadLettersRequest.fromPartial({ dlqTopic: topics[0], messages: refs.map((r) => ({ partition: r.partition, offset: r.offset })), ...base });
}

/** What the replay is about, in words, for the question asked first: "2 dead letters of orders-dlq (…)". */
async function whatReplays(cmd, req) {
  const where = req.targetTopic ? `to ${req.targetTopic}` : 'to the topic each came from';
  if (req.messages.length)
    return `${req.messages.length} dead letter${req.messages.length === 1 ? '' : 's'} of ${req.dlqTopic} (${req.messages.map((m) => `${m.partition}:${m.offset}`).join(', ')}) ${where}`;
  const most = req.maxMessages || 1000;
  let matching = 0;
  let before = 0;
  let pageToken = '';
  do {
    const page = await call(
      cmd,
      'monitor',
      'listDeadLetters',
      monitorV1.ListDeadLettersRequest.fromPartial({
        dlqTopic: req.dlqTopic,
        originalTopic: req.originalTopic,
        errorContains: req.errorContains,
        from: req.from,
        to: req.to,
        pageSize: 500,
        pageToken,
      }),
    );
    matching += page.deadLetters.length;
    before += page.deadLetters.filter((d) => d.replay).length;
    pageToken = page.nextPageToken;
  } while (pageToken && matching < most + before);
  const skipped = before && !req.force ? `, ${before} of them replayed before and skipped without --force` : '';
  return `${matching}${pageToken ? ' or more' : ''} dead letter${matching === 1 ? '' : 's'} of ${req.dlqTopic} that match${skipped} (at most ${most}) ${where}`;
}

/** Asks on the terminal; true for y or yes. Ctrl-C answers no. */
async function confirmed(question) {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  const interrupted = new AbortController();
  rl.on('SIGINT', () => interrupted.abort());
  try {
    return /^y(es)?$/i.test((await rl.question(`${question} [y/N] `, { signal: interrupted.signal })).trim());
  } catch (err) {
    if (interrupted.signal.aborted) return false;
    throw err;
  } finally {
    rl.close();
  }
}

const resultText = (r, topic) => {
  const name = `${topic}:${r.partition}:${r.offset}`;
  switch (r.outcome) {
    case ReplayOutcome.REPLAY_OUTCOME_SENT:
      return `${name}: sent to ${r.targetTopic}[${r.targetPartition}]@${r.targetOffset}`;
    case ReplayOutcome.REPLAY_OUTCOME_ALREADY_REPLAYED:
      return `${name}: not sent, it was replayed before (${replayText(r.previous)}); --force sends it again`;
    case ReplayOutcome.REPLAY_OUTCOME_NO_TARGET:
      return `${name}: not sent, it has no original-topic header; --target-topic names where to send it`;
    case ReplayOutcome.REPLAY_OUTCOME_NO_PAYLOAD:
      return `${name}: not sent, its payload was too large for the DLQ and was not kept`;
    case ReplayOutcome.REPLAY_OUTCOME_NOT_FOUND:
      return `${name}: not sent, the monitor holds no dead letter there`;
    case ReplayOutcome.REPLAY_OUTCOME_FAILED:
      return `${name}: failed, Kafka refused it (${r.detail}); the replay stopped there`;
    default:
      return `${name}: ${r.detail}`;
  }
};

async function replay(cmd, targets, o) {
  const req = replayRequest(targets, o);
  if (!o.yes && process.stdin.isTTY) {
    if (!(await confirmed(`Replay ${await whatReplays(cmd, req)}?`))) {
      console.error('pipewright: nothing replayed');
      return;
    }
  }
  const res = await call(cmd, 'monitor', 'replayDeadLetters', req);
  output(cmd, monitorV1.ReplayDeadLettersResponse, res, (r) =>
    [...r.results.map((x) => resultText(x, req.dlqTopic)), `replayed ${r.replayed}, skipped ${r.skipped}, failed ${r.failed}${r.results.length ? '' : ': no dead letter matched'}`].join('\n'),
  );
  if (res.failed) throw new CliError(`${res.failed} dead letter${res.failed === 1 ? '' : 's'} of ${req.dlqTopic} could not be sent`, EXIT.other);
  const missing = res.results.filter((x) => x.outcome === ReplayOutcome.REPLAY_OUTCOME_NOT_FOUND);
  if (missing.length) throw new CliError(`no dead letter ${missing.map((x) => `${req.dlqTopic}:${x.partition}:${x.offset}`).join(', ')}`, EXIT.notFound);
}

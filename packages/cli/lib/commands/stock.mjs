// stock: start a market-data run (the gateway) and follow its progress (the monitor) to the
// screener's top rows (the stock processor); ratios: the screener itself.
import { int, list, oneOf, RATIO_FIELDS, ratioFilter } from '../args.mjs';
import { CliError, EXIT } from '../errors.mjs';
import { proto } from '../generated.mjs';
import { call, follow } from '../grpc.mjs';
import { pipelineProgress } from '../progress.mjs';
import { fields, jsonLine, more, output, table, time } from '../output.mjs';

const { ingestV1, monitorV1, stockprocessorV1 } = proto;
const DEFAULT_REGIONS = ['us', 'fr', 'de', 'uk', 'jp'];

const fixed = (v, digits = 2) => (v === undefined ? '' : v.toFixed(digits));
const ratiosTable = (r) =>
  table(
    ['SYMBOL', 'REGION', 'SECTOR', 'PRICE', 'P/E', 'P/B', 'ROE', 'DIV YIELD', 'MARKET CAP USD'],
    r.ratios.map((x) => [x.symbol, x.region, x.sector, fixed(x.price), fixed(x.peRatio), fixed(x.pbRatio), fixed(x.roe, 3), fixed(x.dividendYield, 3), fixed(x.marketCapUsd, 0)]),
  );
const tasks = (n) => `${n} scraping task${n === 1 ? '' : 's'}`;
const seconds = (ms) => `${(Number(ms) / 1000).toFixed(1)} s`;

const statusFields = (s) =>
  `${fields([
    ['run id', s.runId],
    ['complete', s.complete ? `yes, in ${seconds(s.durationMs)}` : `no, ${s.percent.toFixed(1)}%`],
    ['regions', s.regions.join(', ')],
    ['source', s.source],
    ['trading date', s.tradingDate],
    ['started', time(s.startedAt)],
    ['finished', time(s.finishedAt)],
    ['scraping', `${s.scraping?.percent.toFixed(1) ?? 0}%: ${s.scraping?.completed ?? 0} completed, ${s.scraping?.failed ?? 0} failed, ${s.scraping?.pending ?? 0} pending`],
    ['processing', `${s.processing?.percent.toFixed(1) ?? 0}%: ${s.processing?.completed ?? 0} completed, ${s.processing?.failed ?? 0} failed, ${s.processing?.pending ?? 0} pending`],
  ])}\n${table(
    ['REGION', 'STATE', 'EMITTED', 'PROCESSED', 'FAILED', 'ERROR'],
    s.regionProgress.map((r) => [r.region, r.state, String(r.symbolsEmitted), String(r.symbolsCompleted), String(r.symbolsFailed), r.error]),
  )}`;

/** The screener options of `stock run --watch` and `stock status --watch`. */
const withScreener = (command) =>
  command
    .option('--watch', 'follow the progress until 100% (a bar per stage on a terminal, a line per update otherwise, a JSON object per line with --json), then print the screener’s top rows')
    .option('--top <n>', 'rows of the screener (default 10)', int('--top'))
    .option('--sort <field>', 'the screener’s order, largest first (default roe)', oneOf('--sort', RATIO_FIELDS))
    .option('--filter <bound>', "the screener's bounds, such as 'pe<15' (repeatable)", ratioFilter);

/**
 * Follows the run's progress until it is complete, then prints the top of its screener. Ctrl-C
 * stops following (the run goes on) with exit 0.
 */
async function watchRun(cmd, runId, o) {
  const json = cmd.optsWithGlobals().json;
  const progress = json ? undefined : pipelineProgress();
  let last;
  let how;
  try {
    how = await follow(cmd, 'monitor', 'watchPipeline', monitorV1.GetPipelineStatusRequest.fromPartial({ runId }), (s) => {
      last = s;
      if (json) jsonLine({ progress: monitorV1.PipelineStatus.toJSON(s) });
      else progress?.update(s);
    });
  } finally {
    progress?.stop();
  }
  if (how === 'interrupted') {
    console.error(`pipewright: stopped following run ${runId}; it goes on (pipewright stock status ${runId} --watch)`);
    return;
  }
  if (!last?.complete) throw new CliError(`the monitor ended the progress stream of run ${runId} before it was complete`, EXIT.other);
  const top = o.top ?? 10;
  const req = stockprocessorV1.ListRatiosRequest.fromPartial({ runId, filters: o.filter ?? [], orderBy: o.sort ?? RATIO_FIELDS.roe, descending: true, pageSize: top });
  const screener = await call(cmd, 'stock-processor', 'listRatios', req);
  if (json) {
    jsonLine({ screener: stockprocessorV1.ListRatiosResponse.toJSON(screener) });
    return;
  }
  console.log(`run ${runId} complete in ${seconds(last.durationMs)}: ${last.processing?.completed ?? 0} symbols processed, ${last.failed} failed`);
  for (const e of last.recentErrors.slice(0, 5)) console.log(`  error (${e.stage}) ${e.region}${e.symbol ? ` ${e.symbol}` : ''}: ${e.error}`);
  const by = Object.keys(RATIO_FIELDS).find((k) => RATIO_FIELDS[k] === req.orderBy);
  console.log(`\ntop ${screener.ratios.length} by ${by}, largest first:\n${ratiosTable(screener)}`);
}

/** @param {import('commander').Command} program */
export function register(program) {
  const stock = program.command('stock').description('market-data runs: start one and follow its progress (the gateway, the monitor, the stock processor)');

  withScreener(
    stock
      .command('run')
      .description('start a market-data run (StartStockRun); prints its run id, or with --watch its progress and then the screener')
      .option('--regions <codes>', `region codes, comma-separated or repeated (default ${DEFAULT_REGIONS.join(',')})`, list)
      .option('--limit <n>', 'most symbols per region, the largest first (0: all)', int('--limit'))
      .option('--min-cap <value>', 'only companies of at least this market cap in US dollars, such as 100M or 2B')
      .option('--max-cap <value>', 'and at most this one')
      .option('--source <source>', 'synthetic (default) or http (the scraper’s STOCK_HTTP_URL)')
      .option('--date <date>', 'the trading date, YYYY-MM-DD (default: today at the first region’s exchange)')
      .option('--run-id <id>', 'default: generated; a run started again with the same id is the same run'),
  ).action(async (o, cmd) => {
    const req = ingestV1.StartStockRunRequest.fromPartial({
      regions: o.regions ?? DEFAULT_REGIONS,
      limit: o.limit ?? 0,
      marketCap: o.minCap || o.maxCap ? { min: o.minCap, max: o.maxCap } : undefined,
      source: o.source ?? '',
      tradingDate: o.date ?? '',
      runId: o.runId ?? '',
    });
    const started = await call(cmd, 'ingest-gateway', 'startStockRun', req);
    const json = cmd.optsWithGlobals().json;
    if (!o.watch) {
      output(
        cmd,
        ingestV1.StartStockRunResponse,
        started,
        (r) => `${r.runId}\n(started: ${tasks(r.tasksSent)} for ${r.regions.join(', ')}, trading date ${r.tradingDate}; pipewright stock status ${r.runId} --watch)`,
      );
      return;
    }
    if (json) jsonLine({ started: ingestV1.StartStockRunResponse.toJSON(started) });
    else console.log(`run ${started.runId}: ${tasks(started.tasksSent)} (${started.regions.join(', ')}), trading date ${started.tradingDate}`);
    await watchRun(cmd, started.runId, o);
  });

  withScreener(stock.command('status').description("a run's progress per stage and region (GetPipelineStatus), or with --watch followed until 100%").argument('<run-id>')).action(
    async (runId, o, cmd) => {
      if (o.watch) return watchRun(cmd, runId, o);
      output(cmd, monitorV1.PipelineStatus, await call(cmd, 'monitor', 'getPipelineStatus', monitorV1.GetPipelineStatusRequest.fromPartial({ runId })), statusFields);
    },
  );

  const ratios = program.command('ratios').description("the screener over the stock processor's ratios");
  ratios
    .command('list')
    .description('symbols with their ratios, filtered and sorted')
    .option('--run <id>', "this run's figures (default: each symbol's latest)")
    .option('--region <code>')
    .option('--sector <sector>')
    .option('--filter <bound>', `a bound such as 'pe<15' or 'roe>=0.1' (inclusive; repeatable); fields: ${Object.keys(RATIO_FIELDS).join(', ')}`, ratioFilter)
    .option('--sort <field>', 'sort by this field (default: symbol)', oneOf('--sort', RATIO_FIELDS))
    .option('--desc', 'largest first')
    .option('--limit <n>', 'page size', int('--limit'))
    .option('--page-token <token>', 'the next page of an earlier list')
    .action(async (o, cmd) => {
      const req = stockprocessorV1.ListRatiosRequest.fromPartial({
        runId: o.run ?? '',
        region: o.region ?? '',
        sector: o.sector ?? '',
        filters: o.filter ?? [],
        orderBy: o.sort ?? 0,
        descending: Boolean(o.desc),
        pageSize: o.limit ?? 0,
        pageToken: o.pageToken ?? '',
      });
      const res = await call(cmd, 'stock-processor', 'listRatios', req);
      output(cmd, stockprocessorV1.ListRatiosResponse, res, (r) => ratiosTable(r) + more(r.nextPageToken));
    });
}

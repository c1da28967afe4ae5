// npm run stock-demo: starts a market-data run through the gateway's StartStockRun (five regions
// by default), prints its progress from the monitor's WatchPipeline stream until 100%, then the
// top of the screener (ListRatios on the stock-processor). Needs the system running: npm start
// in another terminal. Run `npm run stock-demo -- --help` for the options.
import { parseArgs } from 'node:util';
import { createRequire } from 'node:module';
import { clients } from './lib/clients.mjs';
import { SERVICE_LIST } from './lib/services.mjs';

const require = createRequire(import.meta.url);
const { monitorV1, stockprocessorV1 } = require('@pipewright/proto');
const { RatioField } = stockprocessorV1;

const portOf = (name) => SERVICE_LIST.find((s) => s.name === name).grpcPort;

const HELP = `npm run stock-demo -- [options]

Starts a market-data run (StartStockRun on the ingest-gateway), prints its progress as the
monitor streams it (WatchPipeline) until the run is complete, then the screener's top: the
symbols of the run with a P/E of at most --max-pe, by return on equity, highest first
(ListRatios on the stock-processor). Needs the system running: npm start in another terminal.

  --regions LIST      region codes, comma-separated (default us,fr,de,uk,jp)
  --limit N           most symbols per region, the largest first (default 200; 0: all)
  --min-cap X         only companies of at least this market cap in dollars, e.g. 100M or 2B
  --max-cap X         and at most this one
  --source S          synthetic (default) or http (the scraper's STOCK_HTTP_URL)
  --date YYYY-MM-DD   the trading date (default today at the first region's exchange)
  --max-pe N          the screener's P/E bound (default 15)
  --top N             rows of the screener (default 10)
  --gateway ADDR      ingest-gateway (GATEWAY_ADDR, default 127.0.0.1:${portOf('ingest-gateway')})
  --monitor ADDR      monitor (MONITOR_ADDR, default 127.0.0.1:${portOf('monitor')})
  --processor ADDR    stock-processor (PROCESSOR_ADDR, default 127.0.0.1:${portOf('stock-processor')})
  --help              this text`;

const { values } = parseArgs({
  options: {
    regions: { type: 'string', default: 'us,fr,de,uk,jp' },
    limit: { type: 'string', default: '200' },
    'min-cap': { type: 'string' },
    'max-cap': { type: 'string' },
    source: { type: 'string', default: 'synthetic' },
    date: { type: 'string', default: '' },
    'max-pe': { type: 'string', default: '15' },
    top: { type: 'string', default: '10' },
    gateway: { type: 'string', default: process.env.GATEWAY_ADDR ?? `127.0.0.1:${portOf('ingest-gateway')}` },
    monitor: { type: 'string', default: process.env.MONITOR_ADDR ?? `127.0.0.1:${portOf('monitor')}` },
    processor: { type: 'string', default: process.env.PROCESSOR_ADDR ?? `127.0.0.1:${portOf('stock-processor')}` },
    help: { type: 'boolean' },
  },
});
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const fail = (line, code = 1) => {
  console.error(`[stock-demo] ${line}`);
  process.exit(code);
};
const whole = (name) => {
  const n = Number(values[name]);
  if (!Number.isInteger(n) || n < 0) fail(`--${name} must be a whole number >= 0, not "${values[name]}"`, 2);
  return n;
};
const limit = whole('limit');
const top = whole('top');
const maxPe = Number(values['max-pe']);
if (!Number.isFinite(maxPe)) fail(`--max-pe must be a number, not "${values['max-pe']}"`, 2);

const gateway = clients.gateway(values.gateway);
const monitor = clients.monitor(values.monitor);
const processor = clients.stockProcessor(values.processor);

let started;
try {
  started = await gateway.startStockRun({
    regions: values.regions.split(',').map((r) => r.trim()).filter(Boolean),
    limit,
    marketCap: values['min-cap'] || values['max-cap'] ? { min: values['min-cap'] || undefined, max: values['max-cap'] || undefined } : undefined,
    source: values.source,
    tradingDate: values.date,
  });
} catch (err) {
  fail(`StartStockRun on ${values.gateway} failed: ${err.details ?? err.message}${err.code === 14 ? '. Is npm start running?' : ''}`);
}
const t0 = Date.now();
console.log(`run ${started.runId}: ${started.tasksSent} scraping tasks (${started.regions.join(', ')}), trading date ${started.tradingDate}`);

const pad = (v, n) => String(v).padStart(n);
const line = (s) => {
  const sc = s.scraping;
  const pr = s.processing;
  const regions = s.regionProgress.map((r) => `${r.region}:${r.state === 'COMPLETED' ? `${r.symbolsCompleted + r.symbolsFailed}/${r.symbolsEmitted}` : r.state.toLowerCase()}`).join(' ');
  return `${pad(((Date.now() - t0) / 1000).toFixed(1), 6)}s ${pad(s.percent.toFixed(1), 5)}%  regions ${sc.completed + sc.failed}/${sc.sent} (${sc.failed} failed)  symbols sent ${pad(pr.sent, 5)} completed ${pad(pr.completed, 5)} failed ${pad(pr.failed, 4)} pending ${pad(pr.pending, 5)}  ${regions}`;
};

const last = await new Promise((resolve, reject) => {
  let latest;
  const call = monitor.raw.watchPipeline(monitorV1.GetPipelineStatusRequest.fromPartial({ runId: started.runId }), { deadline: Date.now() + 3_600_000 });
  call.on('data', (s) => {
    latest = s;
    console.log(line(s));
  });
  call.on('error', (err) => reject(new Error(`WatchPipeline on ${values.monitor} failed: ${err.details ?? err.message}`)));
  call.on('end', () => resolve(latest));
});
if (!last?.complete) fail('the progress stream ended before the run was complete');

const ms = (n) => `${(Number(n) / 1000).toFixed(1)} s`;
console.log(`complete in ${ms(last.durationMs)}: scraping ${ms(last.scraping.durationMs)}, processing ${ms(last.processing.durationMs)} (from the first symbol processed)`);
for (const e of last.recentErrors.slice(0, 5)) console.log(`  error (${e.stage}) ${e.region}${e.symbol ? ` ${e.symbol}` : ''}: ${e.error}`);

const { ratios } = await processor.listRatios({ runId: started.runId, filters: [{ field: RatioField.RATIO_FIELD_PE, max: maxPe }], orderBy: RatioField.RATIO_FIELD_ROE, descending: true, pageSize: top });
const num = (v, digits = 1) => (v === undefined ? '-' : v.toFixed(digits));
const pct = (v) => (v === undefined ? '-' : `${(v * 100).toFixed(1)}%`);
console.log(`\ntop ${ratios.length} by return on equity with P/E <= ${maxPe}:`);
const rows = [
  ['symbol', 'name', 'region', 'sector', 'price', 'mkt cap $', 'P/E', 'P/B', 'ROE', 'div yield'],
  ...ratios.map((r) => [
    r.symbol,
    r.name,
    r.region,
    r.sector,
    `${num(r.price, 2)} ${r.currency}`,
    r.marketCapUsd === undefined ? '-' : `${(r.marketCapUsd / 1e9).toFixed(2)}B`,
    num(r.peRatio),
    num(r.pbRatio),
    pct(r.roe),
    pct(r.dividendYield),
  ]),
];
const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => String(r[i]).length)));
for (const r of rows) console.log(r.map((c, i) => String(c).padEnd(widths[i])).join('  '));
for (const c of [gateway, monitor, processor]) c.close();

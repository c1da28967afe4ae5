// stock.run: starts a market-data run, as StartStockRun on the gateway does, for scheduled runs
// (a cron job per exchange, after its close, in its time zone). jobData (the app's options as
// defaults) says what to run: regions, marketCap { min, max } as numbers or "100M" / "1B",
// limit, source, tradingDate (default: today at the first region's exchange). The run id is
// the executor's run id, so that a retried attempt starts the same run again, which the
// pipeline deduplicates, rather than a second one.
import { STOCK_REGIONS, StockRunError, TOPICS, planStockRun, stockRunRecords, type StockRunInput } from '@pipewright/contracts';
import { PermanentError, type Handler } from './types';

export const stockRun: Handler = async (ctx) => {
  const input = { ...ctx.options, ...ctx.jobData } as StockRunInput;
  let plan;
  try {
    plan = planStockRun({ ...input, runId: ctx.runId }, { now: new Date(), origin: 'schedule' });
  } catch (err) {
    if (err instanceof StockRunError) throw new PermanentError(`stock.run: ${err.message} (known regions: ${STOCK_REGIONS.map((r) => r.code).join(', ')})`);
    throw err;
  }
  await ctx.ensureTopic(TOPICS.stockRuns);
  await ctx.ensureTopic(TOPICS.stockScrapingTasks);
  const headers = { 'pipewright-run-id': ctx.runId, 'pipewright-job-id': ctx.jobId, 'pipewright-app': ctx.appName };
  for (const r of stockRunRecords(plan, await ctx.partitionCount(TOPICS.stockScrapingTasks))) {
    await ctx.producer.send(
      r.topic,
      r.messages.map((m) => ({ ...m, headers })),
    );
    ctx.published(r.topic, r.messages.length);
  }
  ctx.logger.info({ stockRunId: plan.announcement.runId, regions: plan.announcement.regions, tradingDate: plan.announcement.tradingDate }, 'stock run started');
};

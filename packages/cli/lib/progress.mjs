// A market-data run's progress as it streams in: on a terminal a progress bar per stage and one
// for the whole run (cli-progress), redrawn in place; otherwise one plain line per update.
import cliProgress from 'cli-progress';

const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const stageDetail = (st, unit) => (st ? `${st.completed + st.failed}/${plural(st.sent, unit)}, ${st.failed} failed, ${st.pending} pending` : 'not started');

const STAGES = [
  { name: 'scraping', percent: (s) => s.scraping?.percent ?? 0, detail: (s) => stageDetail(s.scraping, 'region') },
  { name: 'processing', percent: (s) => s.processing?.percent ?? 0, detail: (s) => stageDetail(s.processing, 'symbol') },
  {
    name: 'run',
    percent: (s) => s.percent,
    detail: (s) => (s.complete ? 'complete' : `${s.regionProgress.filter((r) => r.state !== 'PENDING').length}/${plural(s.regions.length, 'region')} reported`),
  },
];

/** "scraping 40.0% (2/5 regions, 0 failed, 3 pending)  processing …  run 31.5% (…)" */
export const progressLine = (s) => STAGES.map((st) => `${st.name} ${st.percent(s).toFixed(1)}% (${st.detail(s)})`).join('  ');

/**
 * @param {NodeJS.WriteStream} [stream]
 * @returns {{ update(status: any): void, stop(): void }}
 */
export function pipelineProgress(stream = process.stdout) {
  if (!stream.isTTY) return { update: (s) => stream.write(`${progressLine(s)}\n`), stop: () => undefined };
  const bars = new cliProgress.MultiBar(
    { stream, format: '{stage} {bar} {percentage}% | {detail}', barsize: 20, hideCursor: true, clearOnComplete: false, gracefulExit: false, forceRedraw: true },
    cliProgress.Presets.shades_classic,
  );
  const width = Math.max(...STAGES.map((st) => st.name.length));
  /** @type {Array<import('cli-progress').SingleBar> | undefined} */
  let created;
  return {
    update(s) {
      created ??= STAGES.map((st) => bars.create(100, 0, { stage: st.name.padEnd(width), detail: '' }));
      STAGES.forEach((st, i) => created?.[i].update(st.percent(s), { stage: st.name.padEnd(width), detail: st.detail(s) }));
    },
    stop: () => bars.stop(),
  };
}

// Charts drawn with uPlot from the data the pages receive: time on the x axis (seconds since
// the epoch), one or more series.
import uPlot from '/vendor/uPlot.esm.js';

const COLORS = ['#1f6feb', '#d1242f', '#1a7f37', '#9a6700', '#8250df', '#bf3989', '#0a7d8c', '#6e7781'];

/**
 * A time-series chart in `container`. kind "line" or "bars". Returns {set(data, labels)}: the data
 * is [seconds[], values[]...]; set again whenever it changes (with the series' labels when they do).
 */
export function timeChart(container, { labels, kind = 'line', height = 220, yLabel = '', padSeconds = 0 }) {
  let plot;
  let current = labels;
  const make = (data) => {
    plot?.destroy();
    const width = Math.max(300, container.clientWidth || 600);
    plot = new uPlot(
      {
        width,
        height,
        legend: { show: current.length > 1 },
        // The time axis spans the data and a margin of padSeconds on each side (uPlot alone
        // stretches a single point's axis over years).
        scales: { x: { time: true, range: (u) => xRange(u.data[0], padSeconds) } },
        axes: [{ space: 90 }, { label: yLabel, size: 60 }],
        series: [
          {},
          ...current.map((label, i) => ({
            label,
            stroke: COLORS[i % COLORS.length],
            fill: kind === 'bars' ? `${COLORS[i % COLORS.length]}88` : undefined,
            width: kind === 'bars' ? 1 : 2,
            spanGaps: true,
            points: { show: kind !== 'bars' && (data[0]?.length ?? 0) <= 60 },
            paths: kind === 'bars' ? uPlot.paths.bars({ size: [0.8, 40] }) : undefined,
          })),
        ],
      },
      data,
      container,
    );
  };
  return {
    set(data, labelsNow = current) {
      const changed = labelsNow.join('\u0000') !== current.join('\u0000');
      current = labelsNow;
      if (!plot || changed) make(data);
      else plot.setData(data);
    },
  };
}

/** Aligns several series of [x, y] points on one x axis (uPlot.join): [xs, ys1, ys2, ...]. */
export function align(seriesOfPoints) {
  if (!seriesOfPoints.length) return [[]];
  return uPlot.join(seriesOfPoints.map((pts) => [pts.map((p) => p[0]), pts.map((p) => p[1])]));
}

/** [min, max] of the x axis: the data's times, widened by pad (by 30 s when they are one instant). */
function xRange(xs, pad) {
  const first = xs?.length ? xs[0] : Date.now() / 1000;
  const last = xs?.length ? xs[xs.length - 1] : first;
  const margin = pad || (last === first ? 30 : 0);
  return [first - margin, last + margin];
}


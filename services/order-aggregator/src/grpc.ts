// pipewright.orders.v1.OrderAggregator: the aggregates, their windows, a stream of their changes,
// and what the aggregator counted. Every read goes through store.ts.
import { decodePageToken, encodePageToken, grpc, invalidArgument, notFound, pageSizeOf, parseDuration, toStatus, unary, type Logger, type Pool } from '@pipewright/platform';
import { TOPICS } from '@pipewright/contracts';
import { ordersV1 } from '@pipewright/proto';
import { aggregatorStats, listAggregates, listWindows, overallAggregate, productAggregate, productAggregates, type AggregateRow, type AggregateSort, type Figures, type WindowRow } from './store';
import type { ChangeFeed } from './watch';
import type { Config } from './config';

const MAX_PAGE = 1000;
const DAY_MS = 86_400_000;

/** What an aggregate and a window both say: the money as exact text, the counts as numbers. */
const figures = (r: Figures) => ({
  total: r.total,
  count: Number(r.count),
  average: r.average,
  min: r.min_amount,
  max: r.max_amount,
  quantity: Number(r.quantity),
});

export function toAggregate(r: AggregateRow): ordersV1.Aggregate {
  return { product: r.product, ...figures(r), firstOrderTime: r.first_at ?? undefined, lastOrderTime: r.last_at ?? undefined };
}

/** How windows sizes are written back: the largest unit that divides the size. */
export function formatSize(ms: number): string {
  for (const [unit, size] of [
    ['d', DAY_MS],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
  ] as const)
    if (ms % size === 0) return `${ms / size}${unit}`;
  return `${ms}ms`;
}

function toWindow(r: WindowRow): ordersV1.Window {
  const size = Number(r.size_ms);
  return {
    product: r.product,
    windowSize: formatSize(size),
    startTime: r.window_start,
    endTime: new Date(r.window_start.getTime() + size),
    ...figures(r),
  };
}

const SORTS: Record<ordersV1.AggregateOrder, AggregateSort | undefined> = {
  [ordersV1.AggregateOrder.AGGREGATE_ORDER_UNSPECIFIED]: 'product',
  [ordersV1.AggregateOrder.AGGREGATE_ORDER_TOTAL]: 'total',
  [ordersV1.AggregateOrder.AGGREGATE_ORDER_COUNT]: 'count',
  [ordersV1.AggregateOrder.AGGREGATE_ORDER_AVERAGE]: 'average',
  [ordersV1.AggregateOrder.UNRECOGNIZED]: undefined,
};

const pageSize = (n: number) => pageSizeOf(n, MAX_PAGE);

type AggregatesToken = { s: AggregateSort; v: string; p: string };
const isAggregatesToken = (v: unknown): v is AggregatesToken => typeof v === 'object' && v !== null && typeof (v as AggregatesToken).v === 'string' && typeof (v as AggregatesToken).p === 'string';
type WindowsToken = { t: number };
const isWindowsToken = (v: unknown): v is WindowsToken => typeof v === 'object' && v !== null && Number.isFinite((v as WindowsToken).t);

export function orderAggregatorHandlers(pool: Pool, feed: ChangeFeed, config: Config, logger: Logger): Partial<ordersV1.OrderAggregatorServer> {
  return {
    getAggregate: unary(logger, async (req: ordersV1.GetAggregateRequest) => {
      if (!req.product) return toAggregate(await overallAggregate(pool));
      const row = await productAggregate(pool, req.product);
      if (!row) throw notFound(`aggregate of product "${req.product}"`);
      return toAggregate(row);
    }),

    listAggregates: unary(logger, async (req: ordersV1.ListAggregatesRequest) => {
      const sort = SORTS[req.orderBy];
      if (!sort) throw invalidArgument('order_by', 'is not a known AggregateOrder');
      const limit = pageSize(req.pageSize);
      const after = decodePageToken(req.pageToken, isAggregatesToken);
      if (after && after.s !== sort) throw invalidArgument('page_token', 'belongs to a listing in another order');
      const rows = await listAggregates(pool, sort, limit + 1, after ? { value: after.v, product: after.p } : undefined);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        aggregates: page.map(toAggregate),
        nextPageToken: rows.length > limit && last ? encodePageToken({ s: sort, v: last.sort_value, p: last.product }) : '',
      };
    }),

    listWindows: unary(logger, async (req: ordersV1.ListWindowsRequest) => {
      if (!req.product) throw invalidArgument('product', 'is required');
      let sizeMs: number;
      try {
        sizeMs = parseDuration(req.windowSize || '');
      } catch {
        throw invalidArgument('window_size', `must be one of ${config.ORDERS_WINDOWS.map(formatSize).join(', ')}`);
      }
      if (!config.ORDERS_WINDOWS.includes(sizeMs))
        throw invalidArgument('window_size', `must be one of ${config.ORDERS_WINDOWS.map(formatSize).join(', ') || '(no windows are kept: ORDERS_WINDOWS=none)'}`);
      const to = req.to ?? new Date();
      const from = req.from ?? new Date(to.getTime() - DAY_MS);
      if (from > to) throw invalidArgument('from', 'must not be after to');
      const limit = pageSize(req.pageSize);
      const after = decodePageToken(req.pageToken, isWindowsToken);
      const rows = await listWindows(pool, { product: req.product, sizeMs, from, to, limit: limit + 1, afterStart: after ? new Date(after.t) : undefined });
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return { windows: page.map(toWindow), nextPageToken: rows.length > limit && last ? encodePageToken({ t: last.window_start.getTime() }) : '' };
    }),

    watchAggregates: (call: grpc.ServerWritableStream<ordersV1.WatchAggregatesRequest, ordersV1.Aggregate>) => {
      const products = new Set(call.request.products.filter(Boolean));
      const watcher = {
        products,
        send: (rows: AggregateRow[]) => {
          for (const r of rows) call.write(toAggregate(r));
        },
        end: () => call.end(),
      };
      const end = () => feed.remove(watcher);
      call.on('cancelled', end);
      call.on('close', end);
      void (async () => {
        // Listen first, then send the current figures: no change falls between the two.
        await feed.add(watcher);
        const current = products.size ? await productAggregates(pool, [...products]) : await listAggregates(pool, 'product', MAX_PAGE);
        watcher.send(current);
      })().catch((err: unknown) => {
        end();
        const { status } = toStatus(err);
        call.emit('error', status);
      });
    },

    getStats: unary(logger, async () => {
      const s = await aggregatorStats(pool, TOPICS.orders);
      return {
        messagesProcessed: Number(s.processed),
        messagesRetried: Number(s.retried),
        messagesSentToDlq: Number(s.dead_lettered),
        duplicates: Number(s.duplicates),
        late: Number(s.late),
      };
    }),
  };
}

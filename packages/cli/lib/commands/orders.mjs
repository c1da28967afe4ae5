// orders: submit through the ingest gateway; aggregates, windows and the live aggregates of the
// order aggregator.
import { randomUUID } from 'node:crypto';
import { AGGREGATE_ORDER, date, int, list, number, oneOf } from '../args.mjs';
import { CliError, EXIT } from '../errors.mjs';
import { proto } from '../generated.mjs';
import { call, follow } from '../grpc.mjs';
import { jsonLine, liveTable, more, output, table, time } from '../output.mjs';

const { ingestV1, ordersV1 } = proto;

const aggregateRow = (a) => [a.product || '(all)', a.total, String(a.count), a.average, a.min, a.max, String(a.quantity), time(a.lastOrderTime)];
const AGGREGATE_HEADER = ['PRODUCT', 'TOTAL', 'COUNT', 'AVERAGE', 'MIN', 'MAX', 'QUANTITY', 'LAST ORDER'];

/** @param {import('commander').Command} program */
export function register(program) {
  const orders = program.command('orders').description('submit orders and read their aggregates (the gateway and the order aggregator)');

  orders
    .command('submit')
    .description('submit one order through the ingest gateway')
    .requiredOption('--product <product>')
    .requiredOption('--price <price>', 'unit price', number('--price'))
    .option('--quantity <n>', 'default 1', int('--quantity'))
    .option('--currency <code>', 'default USD')
    .option('--customer <id>')
    .option('--order-id <id>', 'default: generated')
    .option('--at <time>', 'when it was placed (default: now)', date('--at'))
    .action(async (o, cmd) => {
      const order = ingestV1.Order.fromPartial({
        orderId: o.orderId ?? randomUUID(),
        product: o.product,
        price: o.price,
        quantity: o.quantity ?? 1,
        currency: o.currency ?? '',
        customerId: o.customer ?? '',
        createdAt: o.at ?? new Date(),
      });
      const res = await call(cmd, 'ingest-gateway', 'submitOrders', ingestV1.SubmitOrdersRequest.fromPartial({ orders: [order] }));
      output(cmd, ingestV1.SubmitOrdersResponse, res, (r) => r.orders.map((p) => `${p.orderId}\n(accepted: orders partition ${p.partition} offset ${p.offset})`).join('\n'));
    });

  orders
    .command('aggregate')
    .description("one product's running aggregate (the overall one with --all), or every product's")
    .argument('[product]')
    .option('--all', 'the overall aggregate of every product')
    .option('--sort <field>', `order of the list: ${Object.keys(AGGREGATE_ORDER).join(', ')}`, oneOf('--sort', AGGREGATE_ORDER))
    .option('--limit <n>', 'page size', int('--limit'))
    .option('--page-token <token>', 'the next page of an earlier list')
    .action(async (product, o, cmd) => {
      if (product || o.all) {
        const res = await call(cmd, 'order-aggregator', 'getAggregate', ordersV1.GetAggregateRequest.fromPartial({ product: product ?? '' }));
        output(cmd, ordersV1.Aggregate, res, (a) => table(AGGREGATE_HEADER, [aggregateRow(a)]));
        return;
      }
      const res = await call(cmd, 'order-aggregator', 'listAggregates', ordersV1.ListAggregatesRequest.fromPartial({ orderBy: o.sort ?? 0, pageSize: o.limit ?? 0, pageToken: o.pageToken ?? '' }));
      output(cmd, ordersV1.ListAggregatesResponse, res, (r) => table(AGGREGATE_HEADER, r.aggregates.map(aggregateRow)) + more(r.nextPageToken));
    });

  orders
    .command('windows')
    .description("a product's tumbling windows, oldest first")
    .argument('<product>')
    .requiredOption('--size <size>', "window size, one of the aggregator's ORDERS_WINDOWS (such as 1m, 1h)")
    .option('--from <time>', 'windows starting at or after (default: 24 hours ago)', date('--from'))
    .option('--to <time>', 'windows starting before', date('--to'))
    .option('--limit <n>', 'page size', int('--limit'))
    .option('--page-token <token>', 'the next page of an earlier list')
    .action(async (product, o, cmd) => {
      const req = ordersV1.ListWindowsRequest.fromPartial({ product, windowSize: o.size, from: o.from, to: o.to, pageSize: o.limit ?? 0, pageToken: o.pageToken ?? '' });
      const res = await call(cmd, 'order-aggregator', 'listWindows', req);
      output(
        cmd,
        ordersV1.ListWindowsResponse,
        res,
        (r) =>
          table(
            ['START', 'END', 'TOTAL', 'COUNT', 'AVERAGE', 'MIN', 'MAX', 'QUANTITY'],
            r.windows.map((w) => [time(w.startTime), time(w.endTime), w.total, String(w.count), w.average, w.min, w.max, String(w.quantity)]),
          ) + more(r.nextPageToken),
      );
    });

  orders
    .command('watch')
    .description('live aggregates as orders are counted (WatchAggregates), until Ctrl-C: a table redrawn on a terminal, a line per update otherwise, a JSON object per line with --json')
    .argument('[products...]', 'only these products (default: every one)')
    .action(async (products, _o, cmd) => {
      const json = cmd.optsWithGlobals().json;
      const view = liveTable(
        AGGREGATE_HEADER,
        (row) => `${new Date().toISOString()}  ${row[0]}  total ${row[1]}  count ${row[2]}  average ${row[3]}  min ${row[4]}  max ${row[5]}  quantity ${row[6]}`,
      );
      const how = await follow(cmd, 'order-aggregator', 'watchAggregates', ordersV1.WatchAggregatesRequest.fromPartial({ products: list(products.join(',')) }), (a) => {
        if (json) jsonLine(ordersV1.Aggregate.toJSON(a));
        else view.update(a.product, aggregateRow(a));
      });
      if (how === 'ended') throw new CliError('the order-aggregator ended the stream of aggregates (is it shutting down?)', EXIT.other);
    });
}

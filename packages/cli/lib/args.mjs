// Parsers of option values (each a usage error, exit 2, when the value does not fit) and the
// names the options take for the services' enums.
import { usage } from './errors.mjs';
import { proto } from './generated.mjs';
import { enumName } from './output.mjs';

const { ingestV1, schedulerV1, ordersV1, stockprocessorV1 } = proto;

export const int = (name) => (v) => {
  if (!/^\d+$/.test(v)) throw usage(`${name} takes a whole number, not "${v}"`);
  return Number(v);
};
export const number = (name) => (v) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw usage(`${name} takes a number, not "${v}"`);
  return n;
};
export const date = (name) => (v) => {
  const d = new Date(v);
  if (Number.isNaN(d.getTime())) throw usage(`${name} takes a time such as 2026-12-01T12:00:00Z, not "${v}"`);
  return d;
};
export const jsonObject = (name) => (v) => {
  let parsed;
  try {
    parsed = JSON.parse(v);
  } catch (err) {
    throw usage(`${name} is not JSON: ${/** @type {Error} */ (err).message}`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw usage(`${name} takes a JSON object, such as '{"n": 1}'`);
  return parsed;
};
export const oneOf = (name, values) => (v) => {
  const key = v.toLowerCase();
  if (!(key in values)) throw usage(`${name} takes one of ${Object.keys(values).join(', ')}, not "${v}"`);
  return values[key];
};
/** Comma-separated values, the flag repeatable: --regions us,fr --regions de → [us, fr, de]. */
export const list = (v, previous = []) => [
  ...previous,
  ...v
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean),
];

export const jobStatus = enumName(schedulerV1.jobStatusToJSON, 'JOB_STATUS_');
export const STATUSES = Object.fromEntries(
  Object.values(schedulerV1.JobStatus)
    .filter((v) => typeof v === 'number' && v > 0)
    .map((v) => [jobStatus(v).toLowerCase(), v]),
);
export const PRIORITIES = { high: ingestV1.Priority.PRIORITY_HIGH, normal: ingestV1.Priority.PRIORITY_NORMAL, low: ingestV1.Priority.PRIORITY_LOW };
export const AGGREGATE_ORDER = {
  product: ordersV1.AggregateOrder.AGGREGATE_ORDER_UNSPECIFIED,
  total: ordersV1.AggregateOrder.AGGREGATE_ORDER_TOTAL,
  count: ordersV1.AggregateOrder.AGGREGATE_ORDER_COUNT,
  average: ordersV1.AggregateOrder.AGGREGATE_ORDER_AVERAGE,
};
const F = stockprocessorV1.RatioField;
export const RATIO_FIELDS = {
  market_cap: F.RATIO_FIELD_MARKET_CAP,
  market_cap_usd: F.RATIO_FIELD_MARKET_CAP_USD,
  price: F.RATIO_FIELD_PRICE,
  eps: F.RATIO_FIELD_EPS,
  pe: F.RATIO_FIELD_PE,
  pb: F.RATIO_FIELD_PB,
  ps: F.RATIO_FIELD_PS,
  ev_ebitda: F.RATIO_FIELD_EV_EBITDA,
  debt_to_equity: F.RATIO_FIELD_DEBT_TO_EQUITY,
  roe: F.RATIO_FIELD_ROE,
  current_ratio: F.RATIO_FIELD_CURRENT_RATIO,
  dividend_yield: F.RATIO_FIELD_DIVIDEND_YIELD,
};

/** 'pe<15', 'roe>=0.1', 'price=10' → a RatioFilter (bounds are inclusive); repeated flags add up. */
export function ratioFilter(v, previous = []) {
  const m = /^\s*([a-z_]+)\s*(<=|>=|<|>|=)\s*(-?\d+(?:\.\d+)?(?:e-?\d+)?)\s*$/i.exec(v);
  if (!m) throw usage(`--filter takes <field><op><number> such as 'pe<15' or 'roe>=0.1', not "${v}"`);
  const field = oneOf('--filter', RATIO_FIELDS)(m[1]);
  const n = Number(m[3]);
  const bound = m[2].startsWith('<') ? { max: n } : m[2].startsWith('>') ? { min: n } : { min: n, max: n };
  return [...previous, { field, ...bound }];
}

/**
 * A dead letter's id as `dlq list` prints it: <dlq topic>:<partition>:<offset>.
 * @param {string} v
 * @returns {{ topic: string, partition: number, offset: number }}
 */
export function deadLetterId(v) {
  const m = /^([A-Za-z0-9._-]+):(\d+):(\d+)$/.exec(v);
  if (!m) throw usage(`a dead letter is named <dlq topic>:<partition>:<offset>, such as orders-dlq:0:42 (as \`pipewright dlq list\` shows), not "${v}"`);
  return { topic: m[1], partition: Number(m[2]), offset: Number(m[3]) };
}
export const deadLetterName = (d) => `${d.dlqTopic}:${d.partition}:${d.offset}`;

// The ratios of one company, from its quote and fundamentals, as docs/stocks.md pins them down.
// Pure: no I/O. A ratio whose definition cannot give a value (a denominator <= 0 or missing, a
// figure the source does not have) is null, not an error.
//
//   market cap         price x shares outstanding
//   EPS                trailing-twelve-month net income / shares outstanding (basic, on the shares now)
//   P/E                price / EPS; null when EPS <= 0
//   P/B                market cap / end-of-period equity; null when equity <= 0
//   P/S                market cap / trailing revenue; null when revenue <= 0
//   EV                 market cap + total debt - cash
//   EV/EBITDA          EV / trailing EBITDA; null when EBITDA <= 0
//   debt/equity        total debt / end-of-period equity; null when equity <= 0
//   ROE                trailing net income / end-of-period equity (not average equity); null when equity <= 0
//   current ratio      current assets / current liabilities; null when liabilities <= 0
//   dividend yield     trailing dividends per share / price
import type { ProcessingTask } from '@pipewright/contracts';

export interface ComputedRatios {
  marketCap: number;
  /** Market cap in US dollars, when the task carries a rate. */
  marketCapUsd: number | null;
  eps: number | null;
  pe: number | null;
  pb: number | null;
  ps: number | null;
  enterpriseValue: number | null;
  evEbitda: number | null;
  debtToEquity: number | null;
  roe: number | null;
  currentRatio: number | null;
  dividendYield: number | null;
}

/** Why a task cannot be processed at all (no price to compute from), or undefined when it can. */
export function unprocessable(t: ProcessingTask): string | undefined {
  if (!(t.price > 0)) return `price must be > 0 (got ${t.price})`;
  if (!(t.sharesOutstanding > 0)) return `sharesOutstanding must be > 0 (got ${t.sharesOutstanding})`;
  return undefined;
}

/** a / b when both are known and b > 0, else null. */
const over = (a: number | null, b: number | null): number | null => (a === null || b === null || !(b > 0) ? null : a / b);

export function computeRatios(t: ProcessingTask): ComputedRatios {
  const f = t.fundamentals;
  const marketCap = t.price * t.sharesOutstanding;
  const eps = f.netIncome === null ? null : f.netIncome / t.sharesOutstanding;
  const enterpriseValue = f.totalDebt === null || f.cash === null ? null : marketCap + f.totalDebt - f.cash;
  return {
    marketCap,
    marketCapUsd: t.usdRate === null ? null : marketCap * t.usdRate,
    eps,
    pe: over(t.price, eps),
    pb: over(marketCap, f.equity),
    ps: over(marketCap, f.revenue),
    enterpriseValue,
    evEbitda: over(enterpriseValue, f.ebitda),
    debtToEquity: over(f.totalDebt, f.equity),
    roe: over(f.netIncome, f.equity),
    currentRatio: over(f.currentAssets, f.currentLiabilities),
    dividendYield: over(f.dividendsPerShare, t.price),
  };
}

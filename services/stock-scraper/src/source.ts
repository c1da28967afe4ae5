// Where the listed companies come from, a page at a time, and the scrape of one region over a
// source: pages fetched a few at a time (a limit shared by every region this process scrapes),
// each page retried after the waits of STOCK_SCRAPE_RETRY_BACKOFF, then the market-cap filter
// and the limit. No Kafka here.
import { createRng, stockRegion, type ListedCompany, type ScrapingTask } from '@pipewright/contracts';
import { Slots } from '@pipewright/platform';
import { syntheticPage, syntheticUniverseSize } from './synthetic';

export interface PageRequest {
  runId: string;
  region: string;
  tradingDate: string;
  /** From 1. */
  page: number;
  pageSize: number;
  /** From 1: the first try of this page is attempt 1. */
  attempt: number;
}

export interface Page {
  companies: ListedCompany[];
  /** How many pages the region has, when the source says; otherwise pages are read until one is empty. */
  totalPages?: number;
}

export interface Source {
  fetchPage(req: PageRequest): Promise<Page>;
}

/** A failure no retry can mend (the source refused the request): the region fails at once. */
export class PermanentSourceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PermanentSourceError';
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * The synthetic source: each page takes about latencyMs (±20%); a share failureRate of the
 * attempts fails, chosen by a hash of (run, region, page, attempt), so that a replayed task
 * fails the same way; every attempt for a region in failRegions fails.
 */
export function syntheticSource(opts: { latencyMs: number; failureRate: number; failRegions: ReadonlySet<string>; wait?: (ms: number) => Promise<void> }): Source {
  const wait = opts.wait ?? sleep;
  return {
    async fetchPage(req) {
      const draw = createRng(`${req.runId}|${req.region}|${req.page}|${req.attempt}`);
      const fails = draw.next() < opts.failureRate;
      if (opts.latencyMs > 0) await wait(opts.latencyMs * (0.8 + 0.4 * draw.next()));
      if (syntheticUniverseSize(req.region) === 0) throw new PermanentSourceError(`the synthetic source has no region "${req.region}"`);
      if (opts.failRegions.has(req.region)) throw new Error(`synthetic source: region ${req.region} is set to fail (STOCK_SYNTHETIC_FAIL_REGIONS)`);
      if (fails) throw new Error(`synthetic source: page ${req.page} of ${req.region} failed (simulated, attempt ${req.attempt})`);
      return syntheticPage(req.region, req.tradingDate, req.page, req.pageSize);
    },
  };
}

export class ScrapeFailed extends Error {
  constructor(
    message: string,
    readonly attempts: number,
  ) {
    super(message);
    this.name = 'ScrapeFailed';
  }
}

export interface ScrapeOptions {
  source: Source;
  pageSize: number;
  /** Waits between the attempts of a page: one retry per entry. */
  backoffMs: number[];
  /** Pages in flight of this process, shared by the regions it scrapes at once. */
  limiter: Slots;
  /** Pages fetched at once for one region. */
  window: number;
  wait?: (ms: number) => Promise<void>;
}

export interface ScrapeResult {
  /** The companies to emit: deduplicated by symbol, filtered, limited, in listing order. */
  companies: ListedCompany[];
  pages: number;
  retries: number;
  filteredOut: number;
}

/** The market cap in dollars the filter compares: price x shares at the company's rate, else the region's reference rate. */
export function marketCapUsd(c: ListedCompany, region: string): number | undefined {
  const rate = c.usdRate ?? stockRegion(region)?.usdRate;
  return rate === undefined ? undefined : c.price * c.sharesOutstanding * rate;
}

/** Scrapes one region for a task; throws ScrapeFailed (with the attempts of the page that failed) after the last retry. */
export async function scrapeRegion(task: ScrapingTask, o: ScrapeOptions): Promise<ScrapeResult> {
  const wait = o.wait ?? sleep;
  let retries = 0;
  let pages = 0;
  const fetchPage = async (page: number): Promise<Page> => {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await o.limiter.acquire();
        let got: Page;
        try {
          got = await o.source.fetchPage({ runId: task.runId, region: task.region, tradingDate: task.tradingDate, page, pageSize: o.pageSize, attempt });
        } finally {
          o.limiter.release();
        }
        pages += 1;
        return got;
      } catch (err) {
        const message = `page ${page} of ${task.region}: ${(err as Error).message}`;
        if (err instanceof PermanentSourceError || attempt > o.backoffMs.length) throw new ScrapeFailed(message, attempt);
        retries += 1;
        await wait(o.backoffMs[attempt - 1]);
      }
    }
  };

  const { min, max } = task.marketCap ?? {};
  const seen = new Set<string>();
  const kept: ListedCompany[] = [];
  let filteredOut = 0;
  const take = (p: Page) => {
    for (const c of p.companies) {
      if (seen.has(c.symbol)) continue;
      seen.add(c.symbol);
      const cap = min !== undefined || max !== undefined ? marketCapUsd(c, task.region) : undefined;
      if (cap !== undefined && ((min !== undefined && cap < min) || (max !== undefined && cap > max))) filteredOut += 1;
      else kept.push(c);
    }
  };
  const enough = () => task.limit !== undefined && kept.length >= task.limit;

  const first = await fetchPage(1);
  take(first);
  if (first.totalPages !== undefined) {
    // The page count is known: up to `window` pages in flight, taken in page order, none asked
    // for beyond what the limit still needs (without a filter, which may drop some).
    const total = first.totalPages;
    const inFlight = new Map<number, Promise<Page>>();
    const needed = () => (task.limit === undefined ? Infinity : Math.ceil((task.limit - kept.length) / o.pageSize));
    let next = 2;
    try {
      for (let want = 2; want <= total && !enough(); want += 1) {
        for (; next <= total && inFlight.size < o.window && next - want < Math.max(1, needed()); next += 1) {
          const page = fetchPage(next);
          // Settled here if it is never taken (the limit came first, or an earlier page failed).
          page.catch(() => undefined);
          inFlight.set(next, page);
        }
        const page = inFlight.get(want) as Promise<Page>;
        inFlight.delete(want);
        take(await page);
      }
    } finally {
      await Promise.allSettled(inFlight.values());
    }
  } else {
    // Until a page comes back empty.
    for (let next = 2, last = first; last.companies.length > 0 && !enough(); next += 1) {
      last = await fetchPage(next);
      take(last);
    }
  }
  return { companies: task.limit === undefined ? kept : kept.slice(0, task.limit), pages, retries, filteredOut };
}

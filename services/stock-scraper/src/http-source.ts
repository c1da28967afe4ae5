// The http source: a user's market-data API, one GET per page. The URL template's {region},
// {date}, {page} and {pageSize} are replaced (URL-encoded); the answer is JSON in the shape of
// docs/stocks.md:
//
//   { "totalPages": 3, "usdRate": 1.0, "companies": [ { "symbol": "ACME", "name": "...", "price": 12.5,
//     "sharesOutstanding": 1000000, "currency": "USD", "exchange": "NYSE", "sector": "...",
//     "fundamentals": { "netIncome": ..., ... } }, ... ] }
//
// 2xx with that shape is a page; 4xx is permanent (the region fails at once); 5xx, a timeout, a
// network error or a body that is not that shape is retried.
import { StockMessageError, companyFromJson } from '@pipewright/contracts';
import { PermanentSourceError, type Page, type PageRequest, type Source } from './source';

export function pageUrl(template: string, req: PageRequest): string {
  const values: Record<string, string> = { region: req.region, date: req.tradingDate, page: String(req.page), pageSize: String(req.pageSize) };
  return template.replace(/\{(region|date|page|pageSize)\}/g, (_, name: string) => encodeURIComponent(values[name]));
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A page from the answer's JSON; throws (naming the field) when it is not the documented shape. */
export function pageFromJson(body: unknown, paged: boolean): Page {
  if (!isObject(body)) throw new StockMessageError('the answer is not a JSON object');
  const { companies, totalPages, usdRate } = body;
  if (!Array.isArray(companies)) throw new StockMessageError('companies: must be an array');
  if (usdRate !== undefined && usdRate !== null && (typeof usdRate !== 'number' || !(usdRate > 0))) throw new StockMessageError('usdRate: must be a number > 0');
  if (totalPages !== undefined && totalPages !== null && (typeof totalPages !== 'number' || !Number.isInteger(totalPages) || totalPages < 1))
    throw new StockMessageError('totalPages: must be a whole number >= 1');
  const list = companies.map((c, i) => {
    const company = companyFromJson(c, `companies[${i}]`);
    if (company.usdRate === null && typeof usdRate === 'number') company.usdRate = usdRate;
    return company;
  });
  // A template without {page} is one request per region.
  if (!paged) return { companies: list, totalPages: 1 };
  return typeof totalPages === 'number' ? { companies: list, totalPages } : { companies: list };
}

export function httpSource(opts: { urlTemplate: string; timeoutMs: number; headers: Record<string, string> }): Source {
  const paged = opts.urlTemplate.includes('{page}');
  return {
    async fetchPage(req) {
      const url = pageUrl(opts.urlTemplate, req);
      let res: Response;
      try {
        res = await fetch(url, { headers: { accept: 'application/json', ...opts.headers }, signal: AbortSignal.timeout(opts.timeoutMs) });
      } catch (err) {
        const e = err as Error;
        throw new Error(`GET ${url} failed: ${e.name === 'TimeoutError' ? `no answer within ${opts.timeoutMs} ms` : e.message}`);
      }
      const text = await res.text();
      if (res.status >= 400 && res.status < 500) throw new PermanentSourceError(`GET ${url} answered ${res.status}`);
      if (res.status < 200 || res.status >= 300) throw new Error(`GET ${url} answered ${res.status}`);
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new Error(`GET ${url}: the answer is not JSON`);
      }
      try {
        return pageFromJson(body, paged);
      } catch (err) {
        throw new Error(`GET ${url}: ${(err as Error).message}`);
      }
    },
  };
}

// The regions a market-data run can scrape: what StartStockRun and the stock.run handler accept,
// and what the synthetic source knows. Each has its main exchanges, its listing currency, the
// fixed reference rate to US dollars the market-cap filter uses, and the exchange's time zone
// and closing time (a scheduled run is started after the close, on the trading date there).

export interface StockRegion {
  code: string;
  name: string;
  /** Exchange codes as companies are listed on them (the first is the main one). */
  exchanges: readonly string[];
  /** ISO 4217 code of the listing currency. */
  currency: string;
  /** US dollars per unit of the currency: a fixed reference rate, used only to filter by market cap in dollars. */
  usdRate: number;
  /** IANA time zone of the main exchange. */
  timeZone: string;
  /** Local closing time of the main exchange, HH:MM. */
  close: string;
}

export const STOCK_REGIONS: readonly StockRegion[] = [
  { code: 'us', name: 'United States', exchanges: ['NYSE', 'NASDAQ'], currency: 'USD', usdRate: 1, timeZone: 'America/New_York', close: '16:00' },
  { code: 'ca', name: 'Canada', exchanges: ['TSX'], currency: 'CAD', usdRate: 0.73, timeZone: 'America/Toronto', close: '16:00' },
  { code: 'uk', name: 'United Kingdom', exchanges: ['LSE'], currency: 'GBP', usdRate: 1.27, timeZone: 'Europe/London', close: '16:30' },
  { code: 'fr', name: 'France', exchanges: ['Euronext Paris'], currency: 'EUR', usdRate: 1.08, timeZone: 'Europe/Paris', close: '17:30' },
  { code: 'de', name: 'Germany', exchanges: ['XETRA', 'Frankfurt'], currency: 'EUR', usdRate: 1.08, timeZone: 'Europe/Berlin', close: '17:30' },
  { code: 'nl', name: 'Netherlands', exchanges: ['Euronext Amsterdam'], currency: 'EUR', usdRate: 1.08, timeZone: 'Europe/Amsterdam', close: '17:30' },
  { code: 'ch', name: 'Switzerland', exchanges: ['SIX'], currency: 'CHF', usdRate: 1.12, timeZone: 'Europe/Zurich', close: '17:30' },
  { code: 'es', name: 'Spain', exchanges: ['BME'], currency: 'EUR', usdRate: 1.08, timeZone: 'Europe/Madrid', close: '17:30' },
  { code: 'it', name: 'Italy', exchanges: ['Borsa Italiana'], currency: 'EUR', usdRate: 1.08, timeZone: 'Europe/Rome', close: '17:30' },
  { code: 'jp', name: 'Japan', exchanges: ['TSE'], currency: 'JPY', usdRate: 0.0067, timeZone: 'Asia/Tokyo', close: '15:30' },
  { code: 'hk', name: 'Hong Kong', exchanges: ['HKEX'], currency: 'HKD', usdRate: 0.128, timeZone: 'Asia/Hong_Kong', close: '16:00' },
  { code: 'au', name: 'Australia', exchanges: ['ASX'], currency: 'AUD', usdRate: 0.66, timeZone: 'Australia/Sydney', close: '16:00' },
];

const BY_CODE = new Map(STOCK_REGIONS.map((r) => [r.code, r]));

/** The region of a code, or undefined when it is not one of STOCK_REGIONS. */
export const stockRegion = (code: string): StockRegion | undefined => BY_CODE.get(code);

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function dateIn(timeZone: string, at: Date): string {
  // en-CA formats a date as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(at);
}

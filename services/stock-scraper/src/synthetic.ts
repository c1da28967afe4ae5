// The synthetic source: the listed companies of a region as a real screener site would list
// them (largest market cap first, a page at a time), generated from seeds so that the same
// region and trading date always give the same figures. Names are fictional; symbols,
// exchanges, currencies and sectors follow each region's conventions.
//
// The universe (who is listed, their size and sector) is seeded by the region alone; prices by
// (region, symbol, trading date); fundamentals by (region, symbol, quarter of the trading date).
// Amounts are in the listing currency, converted from dollars at the region's reference rate.
import { createRng, stockRegion, type Fundamentals, type ListedCompany, type Rng, type StockRegion } from '@pipewright/contracts';

interface Sector {
  name: string;
  weight: number;
  words: readonly string[];
  /** Medians: price/sales, price/book, net margin; debt/equity. */
  ps: number;
  pb: number;
  margin: number;
  de: number;
}

const SECTORS: readonly Sector[] = [
  { name: 'Information Technology', weight: 14, words: ['Systems', 'Software', 'Micro', 'Networks', 'Digital', 'Semiconductor'], ps: 6, pb: 7, margin: 0.18, de: 0.4 },
  { name: 'Financials', weight: 14, words: ['Bancorp', 'Financial', 'Capital', 'Trust', 'Insurance', 'Bank'], ps: 2.5, pb: 1.2, margin: 0.2, de: 3 },
  { name: 'Health Care', weight: 11, words: ['Therapeutics', 'Health', 'Biosciences', 'Medical', 'Pharma'], ps: 4, pb: 4, margin: 0.1, de: 0.5 },
  { name: 'Industrials', weight: 13, words: ['Industries', 'Aerospace', 'Machinery', 'Logistics', 'Engineering'], ps: 1.8, pb: 3.5, margin: 0.08, de: 0.7 },
  { name: 'Consumer Discretionary', weight: 10, words: ['Retail', 'Motors', 'Brands', 'Apparel', 'Leisure'], ps: 1.5, pb: 3.5, margin: 0.06, de: 0.8 },
  { name: 'Consumer Staples', weight: 7, words: ['Foods', 'Beverages', 'Household', 'Farms'], ps: 1.5, pb: 4, margin: 0.07, de: 0.7 },
  { name: 'Energy', weight: 6, words: ['Energy', 'Petroleum', 'Resources', 'Oil & Gas'], ps: 1.2, pb: 1.6, margin: 0.08, de: 0.5 },
  { name: 'Materials', weight: 7, words: ['Materials', 'Chemicals', 'Steel', 'Mining', 'Paper'], ps: 1.4, pb: 2, margin: 0.08, de: 0.5 },
  { name: 'Utilities', weight: 5, words: ['Power', 'Utilities', 'Electric', 'Water'], ps: 2, pb: 1.8, margin: 0.1, de: 1.5 },
  { name: 'Real Estate', weight: 5, words: ['Properties', 'Realty', 'Land', 'Estates'], ps: 6, pb: 1.3, margin: 0.15, de: 1.2 },
  { name: 'Communication Services', weight: 8, words: ['Media', 'Telecom', 'Communications', 'Entertainment'], ps: 3, pb: 2.5, margin: 0.1, de: 0.9 },
];

const ENGLISH = [
  'Apex',
  'Summit',
  'Granite',
  'Liberty',
  'Pioneer',
  'Harbor',
  'Cedar',
  'Frontier',
  'Keystone',
  'Meridian',
  'Atlas',
  'Beacon',
  'Crescent',
  'Evergreen',
  'Horizon',
  'Ironwood',
  'Lakeshore',
  'Northstar',
  'Redwood',
  'Silverline',
  'Bluewater',
  'Highland',
  'Oakmont',
  'Riverside',
];

interface Style {
  /** Companies listed. */
  size: number;
  /** Market cap of the largest, in dollars. */
  topCap: number;
  roots: readonly string[];
  legal: readonly string[];
  symbol: (rng: Rng, name: string) => string;
}

const letters = (rng: Rng, name: string, min: number, max: number) => {
  const initials = name
    .replace(/[^A-Za-z ]/g, '')
    .split(' ')
    .filter(Boolean)
    .map((w) => w[0].toUpperCase())
    .join('');
  const n = rng.int(min, max);
  // Some of the initials, then random letters: a symbol taken already is drawn again.
  let s = initials.slice(0, rng.int(1, n));
  while (s.length < n) s += String.fromCharCode(65 + rng.int(0, 25));
  return s;
};
const suffixed = (suffix: string, min: number, max: number) => (rng: Rng, name: string) => `${letters(rng, name, min, max)}${suffix}`;

const STYLES: Record<string, Style> = {
  us: { size: 600, topCap: 3e12, roots: ENGLISH, legal: ['Inc.', 'Corp.', 'Co.', 'Holdings Inc.'], symbol: (rng, name) => letters(rng, name, 1, 4) },
  ca: { size: 250, topCap: 2e11, roots: ENGLISH, legal: ['Inc.', 'Corp.', 'Ltd.'], symbol: suffixed('.TO', 2, 4) },
  uk: {
    size: 300,
    topCap: 2.5e11,
    roots: ['Albion', 'Thames', 'Windsor', 'Pennine', 'Cotswold', 'Mersey', 'Severn', 'Kensington', ...ENGLISH.slice(0, 12)],
    legal: ['plc', 'Group plc', 'Holdings plc'],
    symbol: suffixed('.L', 3, 4),
  },
  fr: {
    size: 250,
    topCap: 3e11,
    roots: ['Aurore', 'Lumière', 'Sillon', 'Rivière', 'Étoile', 'Vallée', 'Garonne', 'Loire', 'Provence', 'Azur', 'Mistral', 'Bocage'],
    legal: ['SA', 'SE', 'Groupe SA'],
    symbol: suffixed('.PA', 2, 4),
  },
  de: {
    size: 250,
    topCap: 2.5e11,
    roots: ['Nordhafen', 'Eichen', 'Rhein', 'Adler', 'Berg', 'Falken', 'Sonnen', 'Wald', 'Stahl', 'Elbe', 'Bavaria', 'Linden'],
    legal: ['AG', 'SE', 'KGaA'],
    symbol: suffixed('.DE', 3, 3),
  },
  nl: { size: 150, topCap: 2e11, roots: ['Delta', 'Polder', 'Tulpen', 'Noordzee', 'Oranje', 'Zeeland', 'Amstel', 'Dijk'], legal: ['N.V.', 'Holding N.V.'], symbol: suffixed('.AS', 2, 4) },
  ch: { size: 200, topCap: 3e11, roots: ['Alpen', 'Helvetia', 'Matterhorn', 'Jura', 'Rigi', 'Léman', 'Tessin', 'Aare'], legal: ['AG', 'SA', 'Holding AG'], symbol: suffixed('.SW', 3, 4) },
  es: { size: 150, topCap: 1e11, roots: ['Iberia', 'Sol', 'Castilla', 'Mediterránea', 'Sierra', 'Levante', 'Aragón', 'Galicia'], legal: ['S.A.', 'Grupo S.A.'], symbol: suffixed('.MC', 3, 4) },
  it: { size: 200, topCap: 1e11, roots: ['Adriatica', 'Tevere', 'Aurora', 'Lombarda', 'Vesuvio', 'Toscana', 'Piemonte', 'Ligure'], legal: ['S.p.A.', 'Gruppo S.p.A.'], symbol: suffixed('.MI', 2, 4) },
  jp: {
    size: 400,
    topCap: 3e11,
    roots: ['Sakura', 'Fuji', 'Kawa', 'Hoshi', 'Yama', 'Nippon', 'Tokai', 'Kansai', 'Hikari', 'Asahi', 'Kita', 'Minato'],
    legal: ['Co., Ltd.', 'Holdings Inc.', 'Corporation'],
    symbol: (rng) => `${rng.int(1300, 9999)}.T`,
  },
  hk: {
    size: 300,
    topCap: 2e11,
    roots: ['Harbour', 'Jade', 'Dragon', 'Pearl', 'Kowloon', 'Victoria', 'Golden', 'Lotus'],
    legal: ['Holdings Ltd.', 'Group Ltd.', 'Ltd.'],
    symbol: (rng) => `${String(rng.int(1, 3999)).padStart(4, '0')}.HK`,
  },
  au: {
    size: 250,
    topCap: 1.5e11,
    roots: ['Southern', 'Coral', 'Outback', 'Eucalypt', 'Tasman', 'Murray', 'Wattle', 'Banksia'],
    legal: ['Ltd', 'Group Ltd', 'Limited'],
    symbol: suffixed('.AX', 3, 3),
  },
};

/** What is fixed about a listed company: who it is and its size; its daily figures derive from these. */
interface Listing {
  symbol: string;
  name: string;
  exchange: string;
  sector: Sector;
  capUsd: number;
  priceUsd: number;
  /** Per-company draws, so that its ratios stay of a kind from quarter to quarter. */
  psFactor: number;
  pbFactor: number;
  margin: number;
  /** Return on equity the company earns when it makes a profit: its book equity follows from it. */
  roe: number;
  pays: boolean;
  payout: number;
  negativeEquity: boolean;
  ebitdaReported: boolean;
}

function pickSector(rng: Rng): Sector {
  const total = SECTORS.reduce((n, s) => n + s.weight, 0);
  let x = rng.next() * total;
  for (const s of SECTORS) if ((x -= s.weight) < 0) return s;
  return SECTORS[SECTORS.length - 1];
}

const universes = new Map<string, Listing[]>();

/** The region's listed companies, largest market cap first. */
function universe(region: StockRegion): Listing[] {
  const cached = universes.get(region.code);
  if (cached) return cached;
  const style = STYLES[region.code];
  const rng = createRng(`universe|${region.code}`);
  const names = new Set<string>();
  const symbols = new Set<string>();
  const out: Listing[] = [];
  for (let i = 0; i < style.size; i += 1) {
    const sector = pickSector(rng);
    let name = `${rng.pick(style.roots)} ${rng.pick(sector.words)} ${rng.pick(style.legal)}`;
    for (let n = 2; names.has(name); n += 1) name = `${rng.pick(style.roots)} ${rng.pick(style.roots)} ${rng.pick(sector.words)} ${rng.pick(style.legal)}${n > 5 ? ` ${n}` : ''}`;
    names.add(name);
    let symbol = style.symbol(rng, name);
    while (symbols.has(symbol)) symbol = style.symbol(rng, name);
    symbols.add(symbol);
    out.push({
      symbol,
      name,
      exchange: rng.pick(region.exchanges),
      sector,
      capUsd: style.topCap * (i + 1) ** -1.4 * Math.exp(0.25 * rng.normal()),
      priceUsd: Math.exp(Math.log(5) + rng.next() * (Math.log(400) - Math.log(5))),
      psFactor: Math.exp(0.4 * rng.normal()),
      pbFactor: Math.exp(0.5 * rng.normal()),
      margin: sector.margin + 0.08 * rng.normal(),
      roe: Math.min(0.45, Math.max(0.02, 0.12 + 0.06 * rng.normal())),
      pays: rng.chance(0.6),
      payout: 0.2 + 0.5 * rng.next(),
      negativeEquity: rng.chance(0.03),
      ebitdaReported: sector.name !== 'Financials' || rng.chance(0.2),
    });
  }
  out.sort((a, b) => b.capUsd - a.capUsd);
  universes.set(region.code, out);
  return out;
}

const quarterOf = (date: string) => `${date.slice(0, 4)}Q${Math.floor((Number(date.slice(5, 7)) - 1) / 3) + 1}`;
const round = (v: number) => Math.round(v);

/** One company's quote on the trading date and its fundamentals for the date's quarter, in the listing currency. */
function companyOn(region: StockRegion, l: Listing, tradingDate: string): ListedCompany {
  const day = createRng(`price|${region.code}|${l.symbol}|${tradingDate}`);
  const q = createRng(`fundamentals|${region.code}|${l.symbol}|${quarterOf(tradingDate)}`);
  const toLocal = (usd: number) => usd / region.usdRate;
  const shares = round(l.capUsd / l.priceUsd);
  const priceUsd = l.priceUsd * Math.exp(0.015 * day.normal());
  const decimals = region.currency === 'JPY' ? 0 : 2;
  const price = Number(toLocal(priceUsd).toFixed(decimals));
  const revenueUsd = (l.capUsd / (l.sector.ps * l.psFactor)) * Math.exp(0.05 * q.normal());
  const netIncomeUsd = revenueUsd * (l.margin + 0.01 * q.normal());
  // Book equity: what the company's return on equity makes of its profit; for a loss-maker, its
  // sector's price-to-book.
  let equityUsd = (netIncomeUsd > 0 ? netIncomeUsd / l.roe : l.capUsd / (l.sector.pb * l.pbFactor)) * Math.exp(0.03 * q.normal());
  if (l.negativeEquity) equityUsd = -0.2 * equityUsd;
  const debtUsd = equityUsd > 0 ? equityUsd * l.sector.de * Math.exp(0.5 * q.normal()) : revenueUsd * 0.5;
  const financial = l.sector.name === 'Financials';
  const currentAssetsUsd = revenueUsd * 0.4 * Math.exp(0.3 * q.normal());
  const eps = netIncomeUsd / shares;
  const f: Fundamentals = {
    netIncome: round(toLocal(netIncomeUsd)),
    equity: round(toLocal(equityUsd)),
    revenue: round(toLocal(revenueUsd)),
    ebitda: l.ebitdaReported ? round(toLocal(revenueUsd * (l.margin + 0.08 + 0.05 * Math.abs(q.normal())))) : null,
    totalDebt: round(toLocal(debtUsd)),
    cash: round(toLocal(revenueUsd * 0.12 * Math.exp(0.5 * q.normal()))),
    currentAssets: financial ? null : round(toLocal(currentAssetsUsd)),
    currentLiabilities: financial ? null : round(toLocal(currentAssetsUsd / (1.4 * Math.exp(0.3 * q.normal())))),
    dividendsPerShare: l.pays && eps > 0 ? Number(toLocal(eps * l.payout).toFixed(4)) : 0,
  };
  // A few figures a real site would not have.
  for (const k of Object.keys(f) as Array<keyof Fundamentals>) if (q.chance(0.02)) f[k] = null;
  return { symbol: l.symbol, name: l.name, exchange: l.exchange, currency: region.currency, sector: l.sector.name, price, sharesOutstanding: shares, usdRate: region.usdRate, fundamentals: f };
}

/** How many companies the synthetic source lists for a region (0 for one it does not know). */
export const syntheticUniverseSize = (code: string): number => {
  const region = stockRegion(code);
  return region && STYLES[code] ? universe(region).length : 0;
};

/** A page (from 1) of the region's companies, largest market cap first, and how many pages there are. */
export function syntheticPage(code: string, tradingDate: string, page: number, pageSize: number): { companies: ListedCompany[]; totalPages: number } {
  const region = stockRegion(code);
  if (!region || !STYLES[code]) throw new Error(`the synthetic source has no region "${code}"`);
  const all = universe(region);
  const companies = all.slice((page - 1) * pageSize, page * pageSize).map((l) => companyOn(region, l, tradingDate));
  return { companies, totalPages: Math.max(1, Math.ceil(all.length / pageSize)) };
}

// What the stock-scraper consumes goes here: one ScrapingTask per region from
// `stock-scraping-tasks` (types in packages/contracts/src/stock-tasks.ts). For each it fetches
// the region's listed companies from the chosen source, applies the market-cap filter and the
// limit, publishes one ProcessingTask per symbol to `stock-processing-tasks` (keyed by symbol),
// then a ScrapingCompletion to `scraping-completion`, or a ScrapingError to `scraping-errors`
// after the last retry.
//
// Not built yet: the service does not consume anything today.

// The stock-scraper has no tables: it reads tasks from Kafka and writes tasks and completion
// events back. A redelivered scraping task is scraped again and publishes the same symbols
// again; the processor (by run id and symbol) and the monitor (by run id and region) count each
// once. Should the scraper come to keep durable state, its SQL goes here, one named function per
// operation, with DATABASE_URL added to config.ts.

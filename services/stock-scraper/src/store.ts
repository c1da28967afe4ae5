// The stock-scraper is planned without tables of its own: it reads tasks from Kafka and writes
// tasks and completion events back. Should it come to keep durable state (for instance to
// recognise a redelivered scraping task by run id and region), all of that SQL goes here, one
// named function per operation, with DATABASE_URL added to config.ts.
//
// Not built yet, and no SQL today.

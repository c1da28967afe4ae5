// What the monitor consumes goes here: the run announcements and the completion and error
// topics of both pipeline stages (`scraping-completion`, `scraping-errors`,
// `processing-completion`, `processing-errors`), `jobs.status` and the dead-letter topics,
// each event counted once into the run's progress through store.ts; and the consumer lag it
// reads with Kafka's admin client.
//
// Not built yet: the service does not consume anything today.

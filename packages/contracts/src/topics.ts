// Every Kafka topic pipewright reads or writes.
export const TOPICS = {
  jobsIngest: 'scheduler.jobs.ingest',
  jobsIngestDlq: 'scheduler.jobs.dlq',
  jobsDue: 'jobs.due',
  jobsStatus: 'jobs.status',
  jobsDlq: 'jobs.dlq',
  orders: 'orders',
  ordersDlq: 'orders-dlq',
  stockScrapingTasks: 'stock-scraping-tasks',
  stockProcessingTasks: 'stock-processing-tasks',
  scrapingCompletion: 'scraping-completion',
  scrapingErrors: 'scraping-errors',
  processingCompletion: 'processing-completion',
  processingErrors: 'processing-errors',
} as const;

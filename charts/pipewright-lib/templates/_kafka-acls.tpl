{{/*
The Kafka ACLs of each service, by chart name, for its KafkaUser (_kafkauser.tpl). Written by
node scripts/gen-charts.mjs from packages/contracts/services.json (the one table of who reads and
writes what) and, for the images' own app registry, packages/contracts/apps.default.json; the
same table scripts/kafka-acls.mjs prints as kafka-acls commands. Do not edit between the markers.
*/}}
{{- define "pipewright-lib.kafkaAclTable" -}}
{{- /* acls:begin */ -}}
services:
  ingest-gateway:
    - {"resource":"topic","name":"scheduler.jobs.ingest","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"orders","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"stock-runs","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"stock-scraping-tasks","pattern":"literal","operations":["Write","Create"]}
  scheduler:
    - {"resource":"topic","name":"scheduler.jobs.ingest","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"jobs.status","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"jobs.due","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"scheduler.jobs.dlq","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"group","name":"scheduler.ingest","pattern":"literal","operations":["Read"]}
    - {"resource":"group","name":"scheduler.status","pattern":"literal","operations":["Read"]}
  executor:
    - {"resource":"topic","name":"jobs.due","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"jobs.status","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"jobs.dlq","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"stock-runs","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"stock-scraping-tasks","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"live_football_events","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"ml_training_data","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"betting_analysis","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"social_media_triggers","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"group","name":"executor","pattern":"literal","operations":["Read"]}
  order-aggregator:
    - {"resource":"topic","name":"orders","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"orders-dlq","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"group","name":"order-aggregator","pattern":"literal","operations":["Read"]}
  stock-scraper:
    - {"resource":"topic","name":"stock-scraping-tasks","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"stock-processing-tasks","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"scraping-completion","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"scraping-errors","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"stock-scraping-dlq","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"group","name":"stock-scraper","pattern":"literal","operations":["Read"]}
  stock-processor:
    - {"resource":"topic","name":"stock-processing-tasks","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"processing-completion","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"processing-errors","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"topic","name":"stock-processing-dlq","pattern":"literal","operations":["Write","Create"]}
    - {"resource":"group","name":"stock-processor","pattern":"literal","operations":["Read"]}
  monitor:
    - {"resource":"topic","name":"scheduler.jobs.dlq","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"jobs.dlq","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"orders-dlq","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"stock-scraping-dlq","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"stock-processing-dlq","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"stock-progress-dlq","pattern":"literal","operations":["Read","Create","Write"]}
    - {"resource":"topic","name":"jobs.status","pattern":"literal","operations":["Read","Create","Write"]}
    - {"resource":"topic","name":"scraping-errors","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"processing-errors","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"stock-runs","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"scraping-completion","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"processing-completion","pattern":"literal","operations":["Read","Create"]}
    - {"resource":"topic","name":"scheduler.jobs.ingest","pattern":"literal","operations":["Write"]}
    - {"resource":"topic","name":"jobs.due","pattern":"literal","operations":["Write"]}
    - {"resource":"topic","name":"orders","pattern":"literal","operations":["Write"]}
    - {"resource":"topic","name":"stock-scraping-tasks","pattern":"literal","operations":["Write"]}
    - {"resource":"topic","name":"stock-processing-tasks","pattern":"literal","operations":["Write"]}
    - {"resource":"topic","name":"*","pattern":"literal","operations":["Describe"]}
    - {"resource":"group","name":"*","pattern":"literal","operations":["Describe"]}
    - {"resource":"topic","name":"__consumer_offsets","pattern":"literal","operations":["Read"]}
    - {"resource":"group","name":"monitor.offsets","pattern":"literal","operations":["Read"]}
    - {"resource":"group","name":"monitor.dead-letters","pattern":"literal","operations":["Read"]}
    - {"resource":"group","name":"monitor.errors","pattern":"literal","operations":["Read"]}
    - {"resource":"group","name":"monitor.pipeline","pattern":"literal","operations":["Read"]}
publishesForApps: ["executor"]
defaultAppAcls:
  - {"resource":"topic","name":"sms.jobs","pattern":"literal","operations":["Write","Create"]}
  - {"resource":"topic","name":"sipcall.jobs","pattern":"literal","operations":["Write","Create"]}
  - {"resource":"topic","name":"payment_gateway.jobs","pattern":"literal","operations":["Write","Create"]}
  - {"resource":"topic","name":"publish.","pattern":"prefixed","operations":["Write","Create"]}
{{- /* acls:end */ -}}
{{- end -}}

{{/* The broker's configuration files (the data of the <release>-kafka ConfigMap). */}}
{{- define "pipewright.kafkaConfig" -}}
{{- $k := .Values.kafka -}}
server.properties: |
  process.roles=broker,controller
  node.id=1
  controller.quorum.voters=1@localhost:9093
  listeners=PLAINTEXT://:9092,CONTROLLER://localhost:9093
  advertised.listeners=PLAINTEXT://{{ include "pipewright.component" (list . "kafka") }}.{{ .Release.Namespace }}.svc:9092
  controller.listener.names=CONTROLLER
  inter.broker.listener.name=PLAINTEXT
  listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
  log.dirs=/var/lib/kafka/data
  num.partitions={{ $k.defaultPartitions }}
  default.replication.factor=1
  # One broker: internal topics need one replica, or consumer groups never find a coordinator.
  offsets.topic.replication.factor=1
  offsets.topic.num.partitions=12
  transaction.state.log.replication.factor=1
  transaction.state.log.min.isr=1
  share.coordinator.state.topic.replication.factor=1
  share.coordinator.state.topic.min.isr=1
  group.initial.rebalance.delay.ms=0
  auto.create.topics.enable=false
  log.retention.hours={{ $k.retentionHours }}
log4j2.properties: |
  status = warn
  appender.console.type = Console
  appender.console.name = STDOUT
  appender.console.layout.type = PatternLayout
  appender.console.layout.pattern = [%d] %p %m (%c)%n
  rootLogger.level = info
  rootLogger.appenderRef.stdout.ref = STDOUT
  logger.kafka.name = kafka
  logger.kafka.level = warn
  logger.apache.name = org.apache.kafka
  logger.apache.level = warn
{{- end -}}

{{/* Environment of every container that runs Kafka's scripts: (list heap-options) */}}
{{- define "pipewright.kafkaEnv" -}}
- name: KAFKA_LOG4J_OPTS
  value: -Dlog4j2.configurationFile=/etc/kafka/log4j2.properties
- name: LOG_DIR
  value: /tmp/kafka-logs
- name: KAFKA_HEAP_OPTS
  value: {{ index . 0 | quote }}
{{- end -}}

{{/* Resources of the short-lived Kafka tool containers (storage format, topic creation). */}}
{{- define "pipewright.kafkaToolResources" -}}
requests:
  cpu: 100m
  memory: 256Mi
limits:
  memory: 512Mi
{{- end -}}

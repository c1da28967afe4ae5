{{/*
The service's settings (environment variables). Plain ones go to the service's ConfigMap;
secret ones are read by the container straight from Secrets.
*/}}

{{- define "pipewright-lib.settings" -}}
{{- $global := .Values.global -}}
{{- $kafka := $global.kafka -}}
{{- $otel := $global.otel | default dict -}}
{{- $s := dict -}}
{{- $_ := set $s "LOG_LEVEL" (.Values.logLevel | default $global.logLevel | default "info") -}}
{{- $_ = set $s "SHUTDOWN_TIMEOUT" (toString .Values.shutdownTimeoutMs) -}}
{{- $_ = set $s "METRICS_PORT" (toString .Values.metricsPort) -}}
{{- $_ = set $s "GRPC_PORT" (toString .Values.grpcPort) -}}
{{- if not (include "pipewright-lib.kafkaSecretKey" (list . "brokers")) -}}
{{- $_ = set $s "KAFKA_BROKERS" (required "global.kafka.brokers (or global.kafka.existingSecret with secretKeys.brokers) is required" (tpl ($kafka.brokers | default "") .)) -}}
{{- end -}}
{{- $_ = set $s "KAFKA_SSL" (toString ($kafka.tls | default false)) -}}
{{- with $kafka.saslMechanism -}}
{{- $_ = set $s "KAFKA_SASL_MECHANISM" . -}}
{{- end -}}
{{- if ($kafka.users).enabled -}}
{{- $_ = set $s "KAFKA_SASL_MECHANISM" ($kafka.saslMechanism | default "scram-sha-512") -}}
{{- $_ = set $s "KAFKA_SASL_USERNAME" (include "pipewright-lib.fullname" .) -}}
{{- end -}}
{{- if ($kafka.caSecret).name -}}
{{- $_ = set $s "KAFKA_SSL_CA" (printf "/etc/pipewright/kafka-ca/%s" $kafka.caSecret.key) -}}
{{- end -}}
{{- if ($kafka.clientCertSecret).name -}}
{{- $_ = set $s "KAFKA_SSL_CERT" (printf "/etc/pipewright/kafka-client/%s" $kafka.clientCertSecret.certKey) -}}
{{- $_ = set $s "KAFKA_SSL_KEY" (printf "/etc/pipewright/kafka-client/%s" $kafka.clientCertSecret.keyKey) -}}
{{- end -}}
{{- if (($global.grpc).auth).enabled -}}
{{- $_ = set $s "GRPC_AUTH" "on" -}}
{{- $_ = set $s "GRPC_TOKENS_FILE" "/etc/pipewright/grpc/tokens.json" -}}
{{- if .Values.grpcCallToken -}}
{{- $_ = set $s "GRPC_CALL_TOKEN_FILE" "/etc/pipewright/grpc/call.token" -}}
{{- end -}}
{{- end -}}
{{- $_ = set $s "KAFKA_TOPIC_PARTITIONS" (toString $kafka.topicPartitions) -}}
{{- $_ = set $s "KAFKA_REPLICATION_FACTOR" (toString $kafka.replicationFactor) -}}
{{- if .Values.database.enabled -}}
{{- $_ = set $s "DATABASE_POOL_MAX" (toString .Values.database.poolMax) -}}
{{- end -}}
{{- $_ = set $s "OTEL_SERVICE_NAME" (include "pipewright-lib.name" .) -}}
{{- with tpl ($otel.endpoint | default "") . -}}
{{- $_ = set $s "OTEL_EXPORTER_OTLP_ENDPOINT" . -}}
{{- $_ = set $s "OTEL_EXPORTER_OTLP_PROTOCOL" ($otel.protocol | default "http/protobuf") -}}
{{- else -}}
{{- $_ = set $s "OTEL_SDK_DISABLED" "true" -}}
{{- end -}}
{{- if include "pipewright-lib.appRegistry" . -}}
{{- $_ = set $s "APPS_CONFIG" "/etc/pipewright/apps/apps.json" -}}
{{- end -}}
{{- range $name, $value := .Values.env -}}
{{- $_ = set $s $name (include "pipewright-lib.render" (list $value $)) -}}
{{- end -}}
{{- toYaml $s -}}
{{- end -}}

{{/* The key of global.kafka.existingSecret that holds a setting ("" when it is not read from there). */}}
{{- define "pipewright-lib.kafkaSecretKey" -}}
{{- $kafka := (index . 0).Values.global.kafka -}}
{{- if $kafka.existingSecret -}}
{{- index ($kafka.secretKeys | default dict) (index . 1) | default "" -}}
{{- end -}}
{{- end -}}

{{/* Container env entries: pod identity, Secret-held settings, then extraEnv. */}}
{{- define "pipewright-lib.env" -}}
{{- $global := .Values.global -}}
{{- $kafka := $global.kafka -}}
{{- $otel := $global.otel | default dict -}}
- name: POD_NAME
  valueFrom:
    fieldRef:
      fieldPath: metadata.name
- name: POD_NAMESPACE
  valueFrom:
    fieldRef:
      fieldPath: metadata.namespace
{{- if tpl ($otel.endpoint | default "") . }}
- name: OTEL_RESOURCE_ATTRIBUTES
  value: {{ printf "k8s.pod.name=$(POD_NAME),k8s.namespace.name=$(POD_NAMESPACE),service.version=%s" .Chart.AppVersion }}{{ with $otel.resourceAttributes }},{{ . }}{{ end }}
{{- end }}
{{- if .Values.database.enabled }}
- name: DATABASE_URL
  valueFrom:
    secretKeyRef:
      name: {{ required "global.database.existingSecret (or database.existingSecret) is required" (tpl (.Values.database.existingSecret | default $global.database.existingSecret | default "") .) }}
      key: {{ .Values.database.secretKey | default $global.database.secretKey | default "url" }}
{{- end }}
{{- $secret := tpl ($kafka.existingSecret | default "") . }}
{{- with include "pipewright-lib.kafkaSecretKey" (list . "brokers") }}
- name: KAFKA_BROKERS
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ . }}
{{- end }}
{{- if ($kafka.users).enabled }}
{{- /* The user's own Secret, named like the user: what Strimzi's User Operator makes for a KafkaUser. */}}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ include "pipewright-lib.fullname" . }}
      key: {{ $kafka.users.passwordKey | default "password" }}
{{- else if $kafka.saslMechanism }}
{{- if not $secret }}
{{- fail "global.kafka.saslMechanism needs global.kafka.existingSecret holding the SASL user name and password (or global.kafka.users.enabled: a user per service)" }}
{{- end }}
- name: KAFKA_SASL_USERNAME
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $kafka.secretKeys.username }}
- name: KAFKA_SASL_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $secret }}
      key: {{ $kafka.secretKeys.password }}
{{- end }}
{{- range .Values.extraEnv }}
{{- $entry := fromYaml (include "pipewright-lib.render" (list . $)) }}
{{- if hasKey $entry "value" }}
{{- $_ := set $entry "value" (toString $entry.value) }}
{{- end }}
{{ toYaml (list $entry) }}
{{- end }}
{{- end -}}

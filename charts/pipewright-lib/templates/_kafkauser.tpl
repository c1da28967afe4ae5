{{/*
The service's own Kafka user as a Strimzi KafkaUser (global.kafka.users.strimzi.enabled): SCRAM-SHA-512,
named like the service (its fullname, which is also KAFKA_SASL_USERNAME), with exactly the ACLs of
its topics and consumer groups. The User Operator makes a Secret of the same name holding the
password, which the pod reads. The ACLs come from _kafka-acls.tpl (written from
packages/contracts/services.json by scripts/gen-charts.mjs); an executor's kafka.publish apps add
their own topic each, or their prefix "<app>." when they have none.
*/}}
{{- define "pipewright-lib.kafkaAcls" -}}
{{- $table := fromYaml (include "pipewright-lib.kafkaAclTable" .) -}}
{{- $name := include "pipewright-lib.name" . -}}
{{- $acls := index $table.services $name | default list -}}
{{- if has $name $table.publishesForApps -}}
{{- $apps := (.Values.global).apps | default .Values.apps -}}
{{- if $apps -}}
{{- range $app, $entry := $apps -}}
{{- if eq $entry.handler "kafka.publish" -}}
{{- with ($entry.options).topic -}}
{{- $acls = append $acls (dict "resource" "topic" "name" . "pattern" "literal" "operations" (list "Write" "Create")) -}}
{{- else -}}
{{- $acls = append $acls (dict "resource" "topic" "name" (printf "%s." $app) "pattern" "prefixed" "operations" (list "Write" "Create")) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- else -}}
{{- $acls = concat $acls $table.defaultAppAcls -}}
{{- end -}}
{{- end -}}
{{- toYaml (dict "acls" $acls) -}}
{{- end -}}

{{- define "pipewright-lib.kafkauser" -}}
{{- $users := .Values.global.kafka.users | default dict -}}
{{- if and $users.enabled ($users.strimzi).enabled -}}
apiVersion: kafka.strimzi.io/v1beta2
kind: KafkaUser
metadata:
  name: {{ include "pipewright-lib.fullname" . }}
  labels:
    strimzi.io/cluster: {{ required "global.kafka.users.strimzi.cluster (the name of the Kafka resource) is required with global.kafka.users.strimzi.enabled" (tpl ($users.strimzi.cluster | default "") .) }}
    {{- include "pipewright-lib.labels" . | nindent 4 }}
spec:
  authentication:
    type: scram-sha-512
  authorization:
    type: simple
    acls:
      {{- range (fromYaml (include "pipewright-lib.kafkaAcls" .)).acls }}
      - resource:
          type: {{ .resource }}
          name: {{ .name | quote }}
          patternType: {{ .pattern }}
        operations: {{ toJson .operations }}
        host: "*"
      {{- end }}
{{- end -}}
{{- end -}}

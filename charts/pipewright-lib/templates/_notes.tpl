{{- define "pipewright-lib.notes" -}}
{{- $fullname := include "pipewright-lib.fullname" . -}}
{{ .Chart.Name }} is installed as {{ $fullname }} in namespace {{ .Release.Namespace }}.

gRPC (health, reflection and the {{ .Chart.Name }} API) on port {{ .Values.grpcPort }}:

  kubectl -n {{ .Release.Namespace }} port-forward svc/{{ $fullname }} {{ .Values.grpcPort }}:{{ .Values.grpcPort }}
{{- $auth := (.Values.global.grpc).auth | default dict }}
{{- if $auth.enabled }}
  # Every call but health needs a bearer token of the Secret {{ tpl ($auth.tokensSecret | default "") . }} (key {{ $auth.tokensKey }}):
  grpcurl -plaintext -H "authorization: Bearer $TOKEN" localhost:{{ .Values.grpcPort }} list
{{- else }}
  grpcurl -plaintext localhost:{{ .Values.grpcPort }} list
{{- end }}
  grpcurl -plaintext localhost:{{ .Values.grpcPort }} grpc.health.v1.Health/Check

In-cluster clients: {{ $fullname }}.{{ .Release.Namespace }}.svc:{{ .Values.grpcPort }}
{{- if .Values.service.headless }}
(or dns:///{{ $fullname }}-headless.{{ .Release.Namespace }}.svc:{{ .Values.grpcPort }} with the round_robin policy, to spread calls over every replica)
{{- end }}
{{- range (fromYaml (include "pipewright-lib.ports" .)).ports | rest | rest }}
{{ .name }}: kubectl -n {{ $.Release.Namespace }} port-forward svc/{{ $fullname }} {{ .port }}:{{ .port }}
{{- end }}
Prometheus metrics: port {{ .Values.metricsPort }}, path /metrics.
{{- end -}}

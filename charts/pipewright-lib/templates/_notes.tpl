{{- define "pipewright-lib.notes" -}}
{{- $fullname := include "pipewright-lib.fullname" . -}}
{{ .Chart.Name }} is installed as {{ $fullname }} in namespace {{ .Release.Namespace }}.

gRPC (health, reflection and the {{ .Chart.Name }} API) on port {{ .Values.grpcPort }}:

  kubectl -n {{ .Release.Namespace }} port-forward svc/{{ $fullname }} {{ .Values.grpcPort }}:{{ .Values.grpcPort }}
  grpcurl -plaintext localhost:{{ .Values.grpcPort }} list
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

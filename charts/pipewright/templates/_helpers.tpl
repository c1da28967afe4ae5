{{/* Infrastructure components are named <release>-<component>, which the global defaults refer to. */}}
{{- define "pipewright.component" -}}
{{- printf "%s-%s" (index . 0).Release.Name (index . 1) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pipewright.selectorLabels" -}}
app.kubernetes.io/name: {{ index . 1 }}
app.kubernetes.io/instance: {{ (index . 0).Release.Name }}
{{- end -}}

{{- define "pipewright.labels" -}}
{{- $ := index . 0 -}}
helm.sh/chart: {{ printf "%s-%s" $.Chart.Name $.Chart.Version | replace "+" "_" }}
{{ include "pipewright.selectorLabels" . }}
app.kubernetes.io/part-of: pipewright
app.kubernetes.io/component: infrastructure
app.kubernetes.io/managed-by: {{ $.Release.Service }}
{{- end -}}

{{- define "pipewright.image" -}}
{{- printf "%s:%s" .repository (toString .tag) -}}
{{- end -}}

{{/* metadata for an infrastructure object: (list $ component [name suffix]) */}}
{{- define "pipewright.metadata" -}}
name: {{ include "pipewright.component" (list (index . 0) (index . 1)) }}{{ if gt (len .) 2 }}-{{ index . 2 }}{{ end }}
labels:
  {{- include "pipewright.labels" (list (index . 0) (index . 1)) | nindent 2 }}
{{- end -}}

{{/* Pod spec fields every infrastructure pod shares: (list uid) */}}
{{- define "pipewright.podSpec" -}}
automountServiceAccountToken: false
enableServiceLinks: false
securityContext:
  {{- include "pipewright-lib.podSecurityContext" (dict "uid" (index . 0)) | nindent 2 }}
{{- end -}}

{{- define "pipewright.containerSecurityContext" -}}
securityContext:
  {{- include "pipewright-lib.securityContext" dict | nindent 2 }}
{{- end -}}

{{/* The volumeClaimTemplates of a StatefulSet, or nothing when persistence is off: (list $ values) */}}
{{- define "pipewright.volumeClaimTemplates" -}}
{{- $p := (index . 1).persistence -}}
{{- if $p.enabled }}
volumeClaimTemplates:
  - metadata:
      name: data
    spec:
      accessModes: [ReadWriteOnce]
      {{- with $p.storageClass }}
      storageClassName: {{ . }}
      {{- end }}
      resources:
        requests:
          storage: {{ $p.size }}
{{- end }}
{{- end -}}

{{/* The data volume when persistence is off. */}}
{{- define "pipewright.dataVolume" -}}
{{- if not .persistence.enabled }}
- name: data
  emptyDir: {}
{{- end }}
{{- end -}}

{{/* Kafka topics to create, one "name partitions" line each. */}}
{{- define "pipewright.topics" -}}
{{- $listed := list -}}
{{- range .Values.kafka.topics }}
{{- $listed = append $listed .name }}
{{ .name }} {{ .partitions | default $.Values.kafka.defaultPartitions }}
{{- end }}
{{- /* and the topics of the apps in global.apps that the list does not name */ -}}
{{- range $name, $app := (.Values.global.apps | default dict) }}
{{- with ($app.options | default dict).topic }}
{{- if not (has . $listed) }}
{{- $listed = append $listed . }}
{{ . }} {{ $.Values.kafka.defaultPartitions }}
{{- end }}
{{- end }}
{{- end }}
{{- end -}}

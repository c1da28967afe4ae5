{{/* Names and labels. */}}

{{- define "pipewright-lib.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "pipewright-lib.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := include "pipewright-lib.name" . -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "pipewright-lib.selectorLabels" -}}
app.kubernetes.io/name: {{ include "pipewright-lib.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "pipewright-lib.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "pipewright-lib.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/part-of: pipewright
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{- define "pipewright-lib.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "pipewright-lib.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/* The service's image: [registry/]repository[:tag][@digest]. */}}
{{- define "pipewright-lib.image" -}}
{{- $global := .Values.global.image | default dict -}}
{{- $registry := .Values.image.registry | default $global.registry -}}
{{- $repository := .Values.image.repository | default (printf "pipewright/%s" .Chart.Name) -}}
{{- $tag := .Values.image.tag | default $global.tag | default .Chart.AppVersion -}}
{{- if $registry }}{{ $registry }}/{{ end }}{{ $repository }}{{ if $tag }}:{{ $tag }}{{ end }}{{ with .Values.image.digest }}@{{ . }}{{ end }}
{{- end -}}

{{/* A value rendered as a template: tpl for strings, toYaml then tpl for everything else. */}}
{{- define "pipewright-lib.render" -}}
{{- $value := index . 0 -}}
{{- $context := index . 1 -}}
{{- if kindIs "string" $value -}}
{{- tpl $value $context -}}
{{- else -}}
{{- tpl (toYaml $value) $context -}}
{{- end -}}
{{- end -}}

{{/*
Restricted Pod Security Standard contexts, shared by the services and the umbrella's
infrastructure pods. pipewright-lib.podSecurityContext takes (dict "uid" N "override" map).
*/}}
{{- define "pipewright-lib.podSecurityContext" -}}
{{- $uid := .uid | default 1000 -}}
{{- $base := dict "runAsNonRoot" true "runAsUser" $uid "runAsGroup" $uid "fsGroup" $uid "fsGroupChangePolicy" "OnRootMismatch" "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml (mergeOverwrite $base (.override | default dict)) -}}
{{- end -}}

{{- define "pipewright-lib.securityContext" -}}
{{- $base := dict "allowPrivilegeEscalation" false "readOnlyRootFilesystem" true "runAsNonRoot" true "capabilities" (dict "drop" (list "ALL")) "seccompProfile" (dict "type" "RuntimeDefault") -}}
{{- toYaml (mergeOverwrite $base (.override | default dict)) -}}
{{- end -}}

{{/*
The other services of the release, as one service's chart reaches them. The gRPC port of each is
written by node scripts/gen-charts.mjs from packages/contracts/services.json (the ports the
service charts give grpcPort). Do not edit between the markers.
*/}}
{{- define "pipewright-lib.grpcPorts" -}}
{{- /* ports:begin */ -}}
ingest-gateway: 50051
scheduler: 50052
executor: 50053
order-aggregator: 50054
stock-scraper: 50055
stock-processor: 50056
monitor: 50057
{{- /* ports:end */ -}}
{{- end -}}

{{/* The service that serves the HTTP/JSON door and forwards the others' methods to them. */}}
{{- define "pipewright-lib.doorService" -}}ingest-gateway{{- end -}}

{{/*
A sibling service's name in this release, as its own chart names it (pipewright-lib.fullname
without overrides): (list $ service).
*/}}
{{- define "pipewright-lib.peerFullname" -}}
{{- $ := index . 0 -}}
{{- $name := index . 1 -}}
{{- if contains $name $.Release.Name -}}
{{- $.Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" $.Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{/* A sibling service's gRPC address, its Service and port: (list $ service). */}}
{{- define "pipewright-lib.peerGrpcAddress" -}}
{{- $ := index . 0 -}}
{{- $name := index . 1 -}}
{{- $ports := fromYaml (include "pipewright-lib.grpcPorts" $) -}}
{{- if not (hasKey $ports $name) -}}
{{- fail (printf "%s is not a pipewright service (%s)" $name (keys $ports | sortAlpha | join ", ")) -}}
{{- end -}}
{{- printf "%s:%v" (include "pipewright-lib.peerFullname" (list $ $name)) (index $ports $name) -}}
{{- end -}}

{{/*
INGEST_HTTP_UPSTREAMS: name=host:port of every other service of the release, at its Service;
.Values.http.upstreams (name -> host:port, tpl) replaces the address of a service.
*/}}
{{- define "pipewright-lib.doorUpstreams" -}}
{{- $own := include "pipewright-lib.name" . -}}
{{- $given := (.Values.http).upstreams | default dict -}}
{{- $entries := list -}}
{{- range $name, $_ := fromYaml (include "pipewright-lib.grpcPorts" .) -}}
{{- if ne $name $own -}}
{{- if hasKey $given $name -}}
{{- $entries = append $entries (printf "%s=%s" $name (tpl (toString (index $given $name)) $)) -}}
{{- else -}}
{{- $entries = append $entries (printf "%s=%s" $name (include "pipewright-lib.peerGrpcAddress" (list $ $name))) -}}
{{- end -}}
{{- end -}}
{{- end -}}
{{- join "," $entries -}}
{{- end -}}

{{/*
NetworkPolicy peers of the door's pods in this release, admitted to the gRPC port of every
service it forwards to (when grpcFrom narrows who else is).
*/}}
{{- define "pipewright-lib.doorPeers" -}}
{{- $door := include "pipewright-lib.doorService" . -}}
{{- if ne (include "pipewright-lib.name" .) $door -}}
{{- toYaml (list (dict "podSelector" (dict "matchLabels" (dict "app.kubernetes.io/name" $door "app.kubernetes.io/instance" .Release.Name)))) -}}
{{- end -}}
{{- end -}}

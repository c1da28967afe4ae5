{{/* The objects of one pipewright service. A service chart renders them all with pipewright-lib.service. */}}

{{- define "pipewright-lib.configmap" -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "pipewright-lib.fullname" . }}
  labels:
    {{- include "pipewright-lib.labels" . | nindent 4 }}
data:
  {{- include "pipewright-lib.settings" . | nindent 2 }}
{{- end -}}

{{/* The app registry document of a service that reads one ("" when it uses the image's own). */}}
{{- define "pipewright-lib.appRegistry" -}}
{{- if .Values.appRegistry -}}
{{- $apps := (.Values.global).apps | default .Values.apps -}}
{{- if $apps -}}
{{- dict "apps" $apps | toPrettyJson -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "pipewright-lib.appsconfigmap" -}}
{{- with include "pipewright-lib.appRegistry" . -}}
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ include "pipewright-lib.fullname" $ }}-apps
  labels:
    {{- include "pipewright-lib.labels" $ | nindent 4 }}
data:
  apps.json: |
    {{- . | nindent 4 }}
{{- end -}}
{{- end -}}

{{- define "pipewright-lib.serviceaccount" -}}
{{- if .Values.serviceAccount.create -}}
apiVersion: v1
kind: ServiceAccount
metadata:
  name: {{ include "pipewright-lib.serviceAccountName" . }}
  labels:
    {{- include "pipewright-lib.labels" . | nindent 4 }}
  {{- with .Values.serviceAccount.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
# The services never call the Kubernetes API.
automountServiceAccountToken: false
{{- end -}}
{{- end -}}

{{/* Every port of the pod: gRPC, metrics, http (when http.enabled), then extraPorts (rendered with tpl). */}}
{{- define "pipewright-lib.ports" -}}
{{- $ports := list (dict "name" "grpc" "port" .Values.grpcPort "appProtocol" "grpc") (dict "name" "metrics" "port" .Values.metricsPort "appProtocol" "http") -}}
{{- with .Values.http -}}
{{- if .enabled -}}
{{- $ports = append $ports (dict "name" "http" "port" (int .port) "appProtocol" "http") -}}
{{- end -}}
{{- end -}}
{{- range .Values.extraPorts -}}
{{- $port := fromYaml (include "pipewright-lib.render" (list . $)) -}}
{{- $ports = append $ports (set $port "port" (int $port.port)) -}}
{{- end -}}
{{- toYaml (dict "ports" $ports) -}}
{{- end -}}

{{- define "pipewright-lib.service" -}}
{{- $ports := (fromYaml (include "pipewright-lib.ports" .)).ports -}}
{{- range $headless := list false true -}}
{{- if or (not $headless) $.Values.service.headless }}
---
apiVersion: v1
kind: Service
metadata:
  name: {{ include "pipewright-lib.fullname" $ }}{{ if $headless }}-headless{{ end }}
  labels:
    {{- include "pipewright-lib.labels" $ | nindent 4 }}
  {{- with $.Values.service.annotations }}
  annotations:
    {{- toYaml . | nindent 4 }}
  {{- end }}
spec:
  {{- if $headless }}
  clusterIP: None
  {{- else }}
  type: {{ $.Values.service.type }}
  {{- end }}
  selector:
    {{- include "pipewright-lib.selectorLabels" $ | nindent 4 }}
  ports:
    {{- range $ports }}
    - name: {{ .name }}
      port: {{ .port }}
      targetPort: {{ .name }}
      protocol: {{ .protocol | default "TCP" }}
      {{- with .appProtocol }}
      appProtocol: {{ . }}
      {{- end }}
    {{- end }}
{{- end }}
{{- end }}
{{- end -}}

{{/* A gRPC probe: grpc.health.v1 of the probe's own service name, else probes.service. */}}
{{- define "pipewright-lib.probe" -}}
{{- $ := index . 0 -}}
{{- $probe := index . 1 -}}
grpc:
  port: {{ $.Values.grpcPort }}
  {{- with (hasKey $probe "service" | ternary $probe.service $.Values.probes.service) }}
  service: {{ . }}
  {{- end }}
{{ toYaml (omit $probe "service") }}
{{- end -}}

{{- define "pipewright-lib.deployment" -}}
{{- $fullname := include "pipewright-lib.fullname" . -}}
{{- $preStop := int .Values.preStopSleepSeconds -}}
apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ $fullname }}
  labels:
    {{- include "pipewright-lib.labels" . | nindent 4 }}
spec:
  {{- if not .Values.autoscaling.enabled }}
  replicas: {{ .Values.replicaCount }}
  {{- end }}
  revisionHistoryLimit: 5
  selector:
    matchLabels:
      {{- include "pipewright-lib.selectorLabels" . | nindent 6 }}
  strategy:
    type: RollingUpdate
    rollingUpdate:
      maxSurge: 25%
      maxUnavailable: 0
  template:
    metadata:
      labels:
        {{- include "pipewright-lib.labels" . | nindent 8 }}
        {{- with .Values.podLabels }}
        {{- toYaml . | nindent 8 }}
        {{- end }}
      annotations:
        checksum/settings: {{ include "pipewright-lib.settings" . | sha256sum }}
        {{- with include "pipewright-lib.appRegistry" . }}
        checksum/apps: {{ . | sha256sum }}
        {{- end }}
        prometheus.io/scrape: "true"
        prometheus.io/port: {{ .Values.metricsPort | quote }}
        prometheus.io/path: /metrics
        {{- with .Values.podAnnotations }}
        {{- include "pipewright-lib.render" (list . $) | nindent 8 }}
        {{- end }}
    spec:
      serviceAccountName: {{ include "pipewright-lib.serviceAccountName" . }}
      automountServiceAccountToken: false
      enableServiceLinks: false
      {{- with .Values.imagePullSecrets }}
      imagePullSecrets:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.priorityClassName }}
      priorityClassName: {{ . }}
      {{- end }}
      securityContext:
        {{- include "pipewright-lib.podSecurityContext" (dict "uid" 1000 "override" .Values.podSecurityContext) | nindent 8 }}
      # Longer than the drain the service allows itself, so SIGKILL never cuts it short.
      terminationGracePeriodSeconds: {{ add (div (add .Values.shutdownTimeoutMs 999) 1000) $preStop 10 }}
      containers:
        - name: {{ include "pipewright-lib.name" . }}
          image: {{ include "pipewright-lib.image" . | quote }}
          imagePullPolicy: {{ .Values.image.pullPolicy | default .Values.global.image.pullPolicy | default "IfNotPresent" }}
          securityContext:
            {{- include "pipewright-lib.securityContext" (dict "override" .Values.securityContext) | nindent 12 }}
          ports:
            {{- range (fromYaml (include "pipewright-lib.ports" .)).ports }}
            - name: {{ .name }}
              containerPort: {{ .port }}
              protocol: {{ .protocol | default "TCP" }}
            {{- end }}
          envFrom:
            - configMapRef:
                name: {{ $fullname }}
          env:
            {{- include "pipewright-lib.env" . | nindent 12 }}
          startupProbe:
            {{- include "pipewright-lib.probe" (list . .Values.probes.startup) | nindent 12 }}
          readinessProbe:
            {{- include "pipewright-lib.probe" (list . .Values.probes.readiness) | nindent 12 }}
          livenessProbe:
            {{- include "pipewright-lib.probe" (list . .Values.probes.liveness) | nindent 12 }}
          {{- if gt $preStop 0 }}
          lifecycle:
            preStop:
              sleep:
                seconds: {{ $preStop }}
          {{- end }}
          resources:
            {{- toYaml .Values.resources | nindent 12 }}
          volumeMounts:
            - name: tmp
              mountPath: /tmp
            {{- if (.Values.global.kafka.caSecret).name }}
            - name: kafka-ca
              mountPath: /etc/pipewright/kafka-ca
              readOnly: true
            {{- end }}
            {{- if (.Values.global.kafka.clientCertSecret).name }}
            - name: kafka-client
              mountPath: /etc/pipewright/kafka-client
              readOnly: true
            {{- end }}
            {{- if ((.Values.global.grpc).auth).enabled }}
            - name: grpc-tokens
              mountPath: /etc/pipewright/grpc
              readOnly: true
            {{- end }}
            {{- if include "pipewright-lib.appRegistry" . }}
            - name: apps
              mountPath: /etc/pipewright/apps
              readOnly: true
            {{- end }}
            {{- with .Values.extraVolumeMounts }}
            {{- include "pipewright-lib.render" (list . $) | nindent 12 }}
            {{- end }}
      volumes:
        - name: tmp
          emptyDir:
            sizeLimit: 64Mi
        {{- with (.Values.global.kafka.caSecret).name }}
        - name: kafka-ca
          secret:
            secretName: {{ tpl . $ }}
        {{- end }}
        {{- with .Values.global.kafka.clientCertSecret }}
        {{- if .name }}
        - name: kafka-client
          secret:
            secretName: {{ tpl .name $ }}
            items:
              - {key: {{ .certKey }}, path: {{ .certKey }}}
              - {key: {{ .keyKey }}, path: {{ .keyKey }}}
        {{- end }}
        {{- end }}
        {{- with (.Values.global.grpc).auth }}
        {{- if .enabled }}
        {{- /* Only what this service reads: the tokens file, and its own call token when it calls the others. */}}
        - name: grpc-tokens
          secret:
            secretName: {{ required "global.grpc.auth.tokensSecret is required when global.grpc.auth.enabled" (tpl (.tokensSecret | default "") $) }}
            items:
              - {key: {{ .tokensKey | default "tokens.json" }}, path: tokens.json}
              {{- if $.Values.grpcCallToken }}
              - {key: {{ .callTokenKey | default "monitor.token" }}, path: call.token}
              {{- end }}
        {{- end }}
        {{- end }}
        {{- if include "pipewright-lib.appRegistry" . }}
        - name: apps
          configMap:
            name: {{ $fullname }}-apps
        {{- end }}
        {{- with .Values.extraVolumes }}
        {{- include "pipewright-lib.render" (list . $) | nindent 8 }}
        {{- end }}
      {{- if .Values.topologySpread }}
      topologySpreadConstraints:
        - maxSkew: 1
          topologyKey: kubernetes.io/hostname
          whenUnsatisfiable: ScheduleAnyway
          labelSelector:
            matchLabels:
              {{- include "pipewright-lib.selectorLabels" . | nindent 14 }}
      {{- end }}
      {{- with .Values.nodeSelector }}
      nodeSelector:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.affinity }}
      affinity:
        {{- toYaml . | nindent 8 }}
      {{- end }}
      {{- with .Values.tolerations }}
      tolerations:
        {{- toYaml . | nindent 8 }}
      {{- end }}
{{- end -}}

{{- define "pipewright-lib.hpa" -}}
{{- if .Values.autoscaling.enabled -}}
{{- $a := .Values.autoscaling -}}
apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata:
  name: {{ include "pipewright-lib.fullname" . }}
  labels:
    {{- include "pipewright-lib.labels" . | nindent 4 }}
spec:
  scaleTargetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: {{ include "pipewright-lib.fullname" . }}
  minReplicas: {{ $a.minReplicas }}
  maxReplicas: {{ $a.maxReplicas }}
  metrics:
    {{- range $resource, $target := dict "cpu" $a.targetCPUUtilizationPercentage "memory" $a.targetMemoryUtilizationPercentage }}
    {{- if $target }}
    - type: Resource
      resource:
        name: {{ $resource }}
        target:
          type: Utilization
          averageUtilization: {{ $target }}
    {{- end }}
    {{- end }}
  {{- with $a.behavior }}
  behavior:
    {{- toYaml . | nindent 4 }}
  {{- end }}
{{- end -}}
{{- end -}}

{{- define "pipewright-lib.pdb" -}}
{{- if .Values.podDisruptionBudget.enabled -}}
apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: {{ include "pipewright-lib.fullname" . }}
  labels:
    {{- include "pipewright-lib.labels" . | nindent 4 }}
spec:
  maxUnavailable: {{ .Values.podDisruptionBudget.maxUnavailable }}
  selector:
    matchLabels:
      {{- include "pipewright-lib.selectorLabels" . | nindent 6 }}
{{- end -}}
{{- end -}}

{{- define "pipewright-lib.networkpolicy" -}}
{{- if .Values.networkPolicy.enabled -}}
{{- $np := .Values.networkPolicy -}}
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata:
  name: {{ include "pipewright-lib.fullname" . }}
  labels:
    {{- include "pipewright-lib.labels" . | nindent 4 }}
spec:
  podSelector:
    matchLabels:
      {{- include "pipewright-lib.selectorLabels" . | nindent 6 }}
  policyTypes: [Ingress]
  ingress:
    {{- /* With grpcFrom narrowed, the door's pods are still admitted to the gRPC port: it forwards here. */}}
    {{- $grpcFrom := $np.grpcFrom | default list }}
    {{- if $grpcFrom }}
    {{- $grpcFrom = concat $grpcFrom (fromYamlArray (include "pipewright-lib.doorPeers" $ | default "[]")) }}
    {{- end }}
    {{- range $port, $from := dict "grpc" $grpcFrom "metrics" $np.metricsFrom }}
    - ports:
        - port: {{ $port }}
      from:
        {{- toYaml ($from | default (list (dict "podSelector" dict))) | nindent 8 }}
    {{- end }}
    {{- range (fromYaml (include "pipewright-lib.ports" $)).ports | rest | rest }}
    - ports:
        - port: {{ .name }}
      from:
        {{- toYaml ($np.grpcFrom | default (list (dict "podSelector" dict))) | nindent 8 }}
    {{- end }}
{{- end -}}
{{- end -}}

{{/* Everything a service chart deploys. */}}
{{- define "pipewright-lib.all" -}}
{{- if not .Values.grpcPort -}}
{{- fail (printf "%s: grpcPort is required" .Chart.Name) -}}
{{- end -}}
{{- range $part := list "configmap" "appsconfigmap" "serviceaccount" "deployment" "hpa" "pdb" "networkpolicy" "kafkauser" }}
{{- with include (printf "pipewright-lib.%s" $part) $ }}
---
{{ . }}
{{- end }}
{{- end }}
{{ include "pipewright-lib.service" . }}
{{- end -}}

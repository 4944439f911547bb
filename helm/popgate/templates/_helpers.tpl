{{/*
Names, labels and the pieces both modes share. The sidecar templates
("popgate.sidecarContainer", "popgate.sidecarVolumes") read only .Values,
.Release and .Chart, so a parent chart can call them with a dict holding
those three (docs/kubernetes.md shows how).
*/}}

{{- define "popgate.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "popgate.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- $name := default .Chart.Name .Values.nameOverride }}
{{- if contains $name .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}
{{- end }}

{{- define "popgate.selectorLabels" -}}
app.kubernetes.io/name: {{ include "popgate.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "popgate.labels" -}}
{{ include "popgate.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/component: {{ .Values.mode }}
app.kubernetes.io/part-of: popgate
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "popgate.image" -}}
{{- if .Values.image.digest }}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest }}
{{- else }}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}
{{- end }}

{{- define "popgate.configMapName" -}}
{{- printf "%s-config" (include "popgate.fullname" .) }}
{{- end }}

{{- define "popgate.aclConfigMapName" -}}
{{- default (printf "%s-acl" (include "popgate.fullname" .)) .Values.acl.existingConfigMap }}
{{- end }}

{{- define "popgate.secretName" -}}
{{- default (printf "%s-secrets" (include "popgate.fullname" .)) .Values.secrets.existingSecret }}
{{- end }}

{{- define "popgate.aclConfigMapKey" -}}
{{- if .Values.acl.existingConfigMap }}{{ .Values.acl.existingConfigMapKey }}{{ else }}acl.yaml{{ end }}
{{- end }}

{{- define "popgate.secretKey" -}}
{{- if .Values.secrets.existingSecret }}{{ .Values.secrets.existingSecretKey }}{{ else }}secrets.yaml{{ end }}
{{- end }}

{{- define "popgate.redisSecretName" -}}
{{- default (printf "%s-redis" (include "popgate.fullname" .)) .Values.replay.redis.existingSecret }}
{{- end }}

{{- define "popgate.redisSecretKey" -}}
{{- if .Values.replay.redis.existingSecret }}{{ .Values.replay.redis.existingSecretKey }}{{ else }}url{{ end }}
{{- end }}

{{- define "popgate.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "popgate.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The upstream: given, or the application's port in the same pod. */}}
{{- define "popgate.upstream" -}}
{{- if .Values.gateway.upstream }}
{{- .Values.gateway.upstream }}
{{- else if eq .Values.mode "sidecar" }}
{{- printf "http://127.0.0.1:%d" (int .Values.sidecar.appPort) }}
{{- else }}
{{- fail "gateway.upstream is required in frontdoor mode (e.g. http://my-app.default.svc:8000)" }}
{{- end }}
{{- end }}

{{/*
shutdown.drainTimeout must end before the kubelet's SIGKILL: refuse a drain
that does not fit inside terminationGracePeriodSeconds.
*/}}
{{- define "popgate.checkDrain" -}}
{{- $d := toString .Values.shutdown.drainTimeout }}
{{- $n := regexReplaceAll "^([0-9]+)(\\.[0-9]+)?(ms|s|m|h|d)$" $d "${1}" | int }}
{{- $unit := regexReplaceAll "^[0-9.]+" $d "" }}
{{- $ms := dict "ms" 1 "s" 1000 "m" 60000 "h" 3600000 "d" 86400000 }}
{{- $drainMs := mul $n (get $ms $unit | default 0) }}
{{- $preStopMs := mul (int .Values.preStop.sleepSeconds) 1000 }}
{{- if ge (add (int64 $drainMs) (int64 $preStopMs)) (mul (int .Values.terminationGracePeriodSeconds) 1000 | int64) }}
{{- fail (printf "preStop.sleepSeconds (%d s) + shutdown.drainTimeout (%s) must be shorter than terminationGracePeriodSeconds (%d s)" (int .Values.preStop.sleepSeconds) $d (int .Values.terminationGracePeriodSeconds)) }}
{{- end }}
{{- end }}

{{/* Container hardening, fixed: only the ids come from values. */}}
{{- define "popgate.containerSecurityContext" -}}
runAsNonRoot: true
{{- with .Values.securityContext.runAsUser }}
runAsUser: {{ . }}
{{- end }}
{{- with .Values.securityContext.runAsGroup }}
runAsGroup: {{ . }}
{{- end }}
readOnlyRootFilesystem: true
allowPrivilegeEscalation: false
privileged: false
capabilities:
  drop: ["ALL"]
seccompProfile:
  type: RuntimeDefault
{{- end }}

{{/*
The gateway container, for the chart's Deployment and for an application's
pod (sidecar). Config, ACL and secrets are one projected volume at
/etc/popgate, so a ConfigMap edit swaps all three atomically and the
gateway's directory watch sees it (src/config/watch.ts).
*/}}
{{- define "popgate.sidecarContainer" -}}
- name: popgate
  image: {{ include "popgate.image" . }}
  imagePullPolicy: {{ .Values.image.pullPolicy }}
  args: ["serve", "--config", "/etc/popgate/gateway.yaml"]
  ports:
    - name: popgate-http
      containerPort: {{ .Values.gateway.port }}
      protocol: TCP
    - name: popgate-admin
      containerPort: {{ .Values.gateway.adminPort }}
      protocol: TCP
    {{- if .Values.tls.enabled }}
    - name: popgate-https
      containerPort: {{ .Values.tls.port }}
      protocol: TCP
    {{- end }}
  env:
    # log.level (an environment override, so extraConfig may still set log.access)
    - name: POPGATE_LOG_LEVEL
      value: {{ .Values.gateway.logLevel | quote }}
    {{- if eq .Values.replay.store "redis" }}
    - name: POPGATE_REDIS_URL
      valueFrom:
        secretKeyRef:
          name: {{ include "popgate.redisSecretName" . }}
          key: {{ include "popgate.redisSecretKey" . }}
    {{- end }}
    {{- with .Values.extraEnv }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
  livenessProbe:
    httpGet:
      path: /healthz
      port: popgate-admin
    {{- toYaml .Values.probes.liveness | nindent 4 }}
  readinessProbe:
    httpGet:
      path: /readyz
      port: popgate-admin
    {{- toYaml .Values.probes.readiness | nindent 4 }}
  {{- if .Values.preStop.sleepSeconds }}
  # The endpoint removal races SIGTERM: keep serving this long before the
  # drain starts, so clients that still pick this pod are answered. node is
  # the one program the image is sure to have (no shell, no sleep binary needed).
  lifecycle:
    preStop:
      exec:
        command: ["node", "-e", "setTimeout(() => {}, {{ mul (int .Values.preStop.sleepSeconds) 1000 }})"]
  {{- end }}
  resources:
    {{- toYaml .Values.resources | nindent 4 }}
  securityContext:
    {{- include "popgate.containerSecurityContext" . | nindent 4 }}
  volumeMounts:
    - name: popgate-config
      mountPath: /etc/popgate
      readOnly: true
    - name: popgate-tmp
      mountPath: /tmp
    {{- if .Values.tls.enabled }}
    - name: popgate-tls
      mountPath: /etc/popgate-tls
      readOnly: true
    {{- end }}
    {{- with .Values.extraVolumeMounts }}
    {{- toYaml . | nindent 4 }}
    {{- end }}
{{- end }}

{{/* The volumes the gateway container mounts. */}}
{{- define "popgate.sidecarVolumes" -}}
- name: popgate-config
  projected:
    defaultMode: 0444
    sources:
      - configMap:
          name: {{ include "popgate.configMapName" . }}
          items:
            - key: gateway.yaml
              path: gateway.yaml
      - configMap:
          name: {{ include "popgate.aclConfigMapName" . }}
          items:
            - key: {{ include "popgate.aclConfigMapKey" . }}
              path: acl.yaml
      - secret:
          name: {{ include "popgate.secretName" . }}
          items:
            - key: {{ include "popgate.secretKey" . }}
              path: secrets.yaml
- name: popgate-tmp
  emptyDir:
    medium: Memory
    sizeLimit: {{ .Values.tmpSizeLimit }}
{{- if .Values.tls.enabled }}
# The TLS listener's certificate (a kubernetes.io/tls Secret: tls.crt, tls.key),
# e.g. one cert-manager keeps renewed; the gateway reloads it on change.
- name: popgate-tls
  secret:
    secretName: {{ required "tls.secretName is required with tls.enabled (a kubernetes.io/tls Secret)" .Values.tls.secretName }}
    defaultMode: 0444
{{- end }}
{{- with .Values.extraVolumes }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* Names: <release>-fleetstat (or the release name when it already holds the chart name), cut to 63 characters for DNS. */}}
{{- define "fleetstat.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "fleetstat.fullname" -}}
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

{{/* <fullname>-<component>, leaving room for the suffix within 63 characters. Call with (dict "root" $ "component" "agent"). */}}
{{- define "fleetstat.componentName" -}}
{{- printf "%s-%s" (include "fleetstat.fullname" .root | trunc (int (sub 62 (len .component))) | trimSuffix "-") .component }}
{{- end }}

{{- define "fleetstat.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* Selector labels: only name, instance and component, so that they never change across upgrades. */}}
{{- define "fleetstat.selectorLabels" -}}
app.kubernetes.io/name: {{ include "fleetstat.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end }}

{{/* Every object's labels. Call with (dict "root" $ "component" "agent"). */}}
{{- define "fleetstat.labels" -}}
helm.sh/chart: {{ include "fleetstat.chart" .root }}
{{ include "fleetstat.selectorLabels" . }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: fleetstat
{{- with .root.Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end }}

{{/* The fleetstat image: digest wins over tag; tag defaults to the chart's appVersion. */}}
{{- define "fleetstat.image" -}}
{{- $image := .Values.image }}
{{- if $image.digest }}
{{- printf "%s@%s" $image.repository $image.digest }}
{{- else }}
{{- printf "%s:%s" $image.repository (default .Chart.AppVersion $image.tag) }}
{{- end }}
{{- end }}

{{/* host:port, with an IPv6 host in brackets as the fleetstat CLI expects. Call with (list host port). */}}
{{- define "fleetstat.hostPort" -}}
{{- $host := index . 0 }}
{{- if contains ":" $host }}
{{- printf "[%s]:%v" $host (index . 1) }}
{{- else }}
{{- printf "%s:%v" $host (index . 1) }}
{{- end }}
{{- end }}

{{/* Services are addressed as <name>.<namespace>.svc: correct in every namespace and with any cluster domain. */}}
{{- define "fleetstat.serviceHost" -}}
{{- printf "%s.%s.svc" (include "fleetstat.componentName" .) .root.Release.Namespace }}
{{- end }}

{{- define "fleetstat.embeddedNats" -}}
{{- if and (eq .Values.transport "nats") .Values.nats.embedded.enabled }}true{{ end }}
{{- end }}

{{/* The NATS URL agents and collector use: the existing server's, or the embedded Service. */}}
{{- define "fleetstat.natsUrl" -}}
{{- if .Values.nats.url }}
{{- .Values.nats.url }}
{{- else }}
{{- printf "nats://%s:%v" (include "fleetstat.serviceHost" (dict "root" . "component" "nats")) .Values.nats.embedded.port }}
{{- end }}
{{- end }}

{{- define "fleetstat.agentServiceAccountName" -}}
{{- if .Values.agent.serviceAccount.create }}
{{- default (include "fleetstat.componentName" (dict "root" . "component" "agent")) .Values.agent.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.agent.serviceAccount.name }}
{{- end }}
{{- end }}

{{- define "fleetstat.collectorServiceAccountName" -}}
{{- if .Values.collector.serviceAccount.create }}
{{- default (include "fleetstat.componentName" (dict "root" . "component" "collector")) .Values.collector.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.collector.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* Pod scheduling fields shared by every workload. Call with a component's values. */}}
{{- define "fleetstat.scheduling" -}}
{{- with .nodeSelector }}
nodeSelector:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .affinity }}
affinity:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .tolerations }}
tolerations:
  {{- toYaml . | nindent 2 }}
{{- end }}
{{- with .priorityClassName }}
priorityClassName: {{ . }}
{{- end }}
{{- end }}

{{/* Probe timing from values; the handler is the template's. */}}
{{- define "fleetstat.probeTiming" -}}
initialDelaySeconds: {{ .initialDelaySeconds }}
periodSeconds: {{ .periodSeconds }}
timeoutSeconds: {{ .timeoutSeconds }}
failureThreshold: {{ .failureThreshold }}
{{- end }}

{{/* "true" when the collector serves HTTPS (tls.collectorSecret with tls.https). */}}
{{- define "fleetstat.collectorHttps" -}}
{{- if and .Values.tls.collectorSecret .Values.tls.https }}true{{ end }}
{{- end }}

{{/* The name the collector checks in agents' DetailService certificates. */}}
{{- define "fleetstat.agentServerName" -}}
{{- default (include "fleetstat.componentName" (dict "root" . "component" "agent")) .Values.tls.agentServerName }}
{{- end }}

{{/*
A TLS Secret at /etc/fleetstat/tls and the API token at /etc/fleetstat/api-token/token, as files
(never arguments or environment). Call with (dict "tls" secretName "caOnly" bool "token" secretName
"tokenKey" key); an empty name mounts nothing. caOnly projects only ca.crt (the test pod needs no key).
*/}}
{{- define "fleetstat.secretMounts" -}}
{{- if .tls }}
- name: tls
  mountPath: /etc/fleetstat/tls
  readOnly: true
{{- end }}
{{- if .token }}
- name: api-token
  mountPath: /etc/fleetstat/api-token
  readOnly: true
{{- end }}
{{- end }}

{{- define "fleetstat.secretVolumes" -}}
{{- if .tls }}
- name: tls
  secret:
    secretName: {{ .tls }}
    # 0444: readable by the container's non-root user without an fsGroup; the pod runs nothing else.
    defaultMode: 292
    {{- if .caOnly }}
    items:
      - key: ca.crt
        path: ca.crt
    {{- end }}
{{- end }}
{{- if .token }}
- name: api-token
  secret:
    secretName: {{ .token }}
    defaultMode: 292
    items:
      - key: {{ .tokenKey }}
        path: token
{{- end }}
{{- end }}

{{/*
NATS user/password or token from nats.auth.existingSecret as environment variables (agent and
collector); an nkey seed or .creds file goes as a file instead (fleetstat.natsFileArgs).
*/}}
{{- define "fleetstat.natsAuthEnv" -}}
{{- $auth := .Values.nats.auth -}}
{{- if and (eq .Values.transport "nats") $auth.existingSecret (not $auth.nkeyKey) (not $auth.credsKey) }}
{{- if $auth.tokenKey }}
- name: FLEETSTAT_NATS_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ $auth.existingSecret }}
      key: {{ $auth.tokenKey }}
{{- else }}
- name: FLEETSTAT_NATS_USER
  valueFrom:
    secretKeyRef:
      name: {{ $auth.existingSecret }}
      key: {{ $auth.userKey }}
- name: FLEETSTAT_NATS_PASSWORD
  valueFrom:
    secretKeyRef:
      name: {{ $auth.existingSecret }}
      key: {{ $auth.passwordKey }}
{{- end }}
{{- end }}
{{- end }}

{{/*
NATS secrets that are files, for agent and collector alike: an nkey seed or .creds file from
nats.auth.existingSecret at /etc/fleetstat/nats-auth, the CA and client certificate from
nats.tls.existingSecret at /etc/fleetstat/nats-tls, mounted read-only; the flags name the files.
*/}}
{{- define "fleetstat.natsFileArgs" -}}
{{- if eq .Values.transport "nats" }}
{{- $auth := .Values.nats.auth }}
{{- $tls := .Values.nats.tls }}
{{- if and $auth.existingSecret $auth.nkeyKey }}
- --nats-nkey-file=/etc/fleetstat/nats-auth/nkey
{{- else if and $auth.existingSecret $auth.credsKey }}
- --nats-creds-file=/etc/fleetstat/nats-auth/user.creds
{{- end }}
{{- if and $tls.existingSecret $tls.caKey }}
- --nats-ca-file=/etc/fleetstat/nats-tls/ca.crt
{{- end }}
{{- if and $tls.existingSecret $tls.certKey }}
- --nats-cert-file=/etc/fleetstat/nats-tls/tls.crt
- --nats-key-file=/etc/fleetstat/nats-tls/tls.key
{{- end }}
{{- end }}
{{- end }}

{{- define "fleetstat.natsFileMounts" -}}
{{- if eq .Values.transport "nats" }}
{{- if and .Values.nats.auth.existingSecret (or .Values.nats.auth.nkeyKey .Values.nats.auth.credsKey) }}
- name: nats-auth
  mountPath: /etc/fleetstat/nats-auth
  readOnly: true
{{- end }}
{{- if .Values.nats.tls.existingSecret }}
- name: nats-tls
  mountPath: /etc/fleetstat/nats-tls
  readOnly: true
{{- end }}
{{- end }}
{{- end }}

{{- define "fleetstat.natsFileVolumes" -}}
{{- if eq .Values.transport "nats" }}
{{- $auth := .Values.nats.auth }}
{{- $tls := .Values.nats.tls }}
{{- if and $auth.existingSecret (or $auth.nkeyKey $auth.credsKey) }}
- name: nats-auth
  secret:
    secretName: {{ $auth.existingSecret }}
    # 0444 as the other secret volumes: the container's one non-root user reads it without an fsGroup.
    defaultMode: 292
    items:
      {{- if $auth.nkeyKey }}
      - key: {{ $auth.nkeyKey }}
        path: nkey
      {{- else }}
      - key: {{ $auth.credsKey }}
        path: user.creds
      {{- end }}
{{- end }}
{{- if $tls.existingSecret }}
- name: nats-tls
  secret:
    secretName: {{ $tls.existingSecret }}
    defaultMode: 292
    items:
      {{- if $tls.caKey }}
      - key: {{ $tls.caKey }}
        path: ca.crt
      {{- end }}
      {{- if $tls.certKey }}
      - key: {{ $tls.certKey }}
        path: tls.crt
      - key: {{ $tls.keyKey }}
        path: tls.key
      {{- end }}
{{- end }}
{{- end }}
{{- end }}

{{/*
Combinations the schema cannot express. Included from NOTES.txt (as the chart conventions do)
and from the collector's Deployment, so that `helm template` (Argo CD, Flux) fails the same way
as `helm install`.
*/}}
{{- define "fleetstat.validate" -}}
{{- $v := .Values }}
{{- if eq $v.transport "nats" }}
{{- if and $v.nats.embedded.enabled $v.nats.url }}
{{- fail "fleetstat: nats.url is set and nats.embedded.enabled is true: use your NATS (set nats.embedded.enabled=false) or the embedded one (leave nats.url empty), not both" }}
{{- end }}
{{- if and (not $v.nats.embedded.enabled) (not $v.nats.url) }}
{{- fail "fleetstat: transport nats needs a NATS server: set nats.url to your NATS (nats://host:4222), or nats.embedded.enabled=true, or transport=grpc" }}
{{- end }}
{{- $natsAuth := $v.nats.auth }}
{{- if gt (len (compact (list $natsAuth.tokenKey $natsAuth.nkeyKey $natsAuth.credsKey))) 1 }}
{{- fail "fleetstat: set one of nats.auth.tokenKey, nats.auth.nkeyKey and nats.auth.credsKey (one kind of NATS credentials)" }}
{{- end }}
{{- if ne (empty $v.nats.tls.certKey) (empty $v.nats.tls.keyKey) }}
{{- fail "fleetstat: nats.tls.certKey and nats.tls.keyKey go together (a client certificate and its key)" }}
{{- end }}
{{- if and $v.nats.tls.existingSecret (not $v.nats.tls.caKey) (not $v.nats.tls.certKey) }}
{{- fail "fleetstat: nats.tls.existingSecret needs nats.tls.caKey and/or nats.tls.certKey with keyKey" }}
{{- end }}
{{- if and $v.nats.embedded.enabled (lt (int64 $v.nats.embedded.maxPayloadBytes) (int64 $v.collector.maxSnapshotBytes)) }}
{{- fail "fleetstat: nats.embedded.maxPayloadBytes is below collector.maxSnapshotBytes: NATS would refuse snapshots the collector accepts" }}
{{- end }}
{{- else }}
{{- if $v.nats.embedded.enabled }}
{{- fail "fleetstat: transport grpc uses no NATS: set nats.embedded.enabled=false" }}
{{- end }}
{{- if $v.nats.url }}
{{- fail "fleetstat: transport grpc uses no NATS: leave nats.url empty (or use transport=nats)" }}
{{- end }}
{{- if gt (int $v.collector.replicaCount) 1 }}
{{- fail "fleetstat: transport grpc needs collector.replicaCount=1: each agent streams to one collector, so replicas would each see part of the fleet (use transport=nats for replicas)" }}
{{- end }}
{{- end }}
{{- if and $v.tls.agentSecret (not $v.tls.collectorSecret) }}
{{- fail "fleetstat: tls.agentSecret needs tls.collectorSecret (mutual TLS is TLS with both sides' certificates)" }}
{{- end }}
{{- if and $v.tls.agentSecret (ne $v.transport "grpc") }}
{{- fail "fleetstat: tls.agentSecret is for transport grpc (over NATS agents never dial the collector)" }}
{{- end }}
{{- if and $v.tls.collectorSecret (eq $v.transport "grpc") (not $v.tls.agentSecret) }}
{{- fail "fleetstat: transport grpc with tls.collectorSecret needs tls.agentSecret: agents need its ca.crt to trust the collector, and a certificate for DetailService" }}
{{- end }}
{{- if and $v.tls.agentServerName (not $v.tls.agentSecret) }}
{{- fail "fleetstat: tls.agentServerName is for tls.agentSecret" }}
{{- end }}
{{- with $v.collector.persistence }}
{{- if and .enabled (not .existingClaim) (gt (int $v.collector.replicaCount) 1) (has "ReadWriteOnce" .accessModes) }}
{{- fail "fleetstat: collector.persistence with a ReadWriteOnce volume needs collector.replicaCount=1" }}
{{- end }}
{{- end }}
{{- with $v.collector.podDisruptionBudget }}
{{- if and .enabled (kindIs "invalid" .minAvailable) (kindIs "invalid" .maxUnavailable) }}
{{- fail "fleetstat: collector.podDisruptionBudget needs maxUnavailable or minAvailable" }}
{{- end }}
{{- end }}
{{- end }}

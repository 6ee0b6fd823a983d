{{- define "nodedns.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{- define "nodedns.fullname" -}}
{{- if .Values.fullnameOverride }}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" }}
{{- else if contains (include "nodedns.name" .) .Release.Name }}
{{- .Release.Name | trunc 63 | trimSuffix "-" }}
{{- else }}
{{- printf "%s-%s" .Release.Name (include "nodedns.name" .) | trunc 63 | trimSuffix "-" }}
{{- end }}
{{- end }}

{{- define "nodedns.selectorLabels" -}}
app.kubernetes.io/name: {{ include "nodedns.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end }}

{{- define "nodedns.labels" -}}
{{ include "nodedns.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" }}
{{- end }}

{{- define "nodedns.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "nodedns.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- default "default" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The node is prepared by NodeDns itself (interface and firewall rules), which needs NET_ADMIN. */}}
{{- define "nodedns.setsUpNode" -}}
{{- if has .Values.nodeSetup.mode (list "iptables" "nftables") }}true{{ else if has .Values.nodeSetup.mode (list "none" "cilium-lrp") }}{{ else }}
{{- fail (printf "nodeSetup.mode must be iptables, nftables, none or cilium-lrp, not %q" .Values.nodeSetup.mode) }}
{{- end }}
{{- end }}

{{/* An ordinary pod behind a CiliumLocalRedirectPolicy for the kube-dns Service (docs/cilium-local-redirect.md). */}}
{{- define "nodedns.redirected" -}}
{{- if eq .Values.nodeSetup.mode "cilium-lrp" }}true{{ end }}
{{- end }}

{{/* The node directory for the snapshot (and, on the host network, the hand-off socket and the lock). */}}
{{- define "nodedns.usesState" -}}
{{- if and .Values.handoff.enabled (or (not (include "nodedns.redirected" .)) .Values.handoff.snapshot) }}true{{ end }}
{{- end }}

{{/* nodedns.json: what a reload can apply lives here (the file is watched); see nodedns help serve. */}}
{{- define "nodedns.config" -}}
{{- $upstream := list }}
{{- range .Values.upstreams }}
{{- $zone := required "each upstreams entry needs a zone" .zone }}
{{- if empty .servers }}
{{- fail (printf "upstreams zone %s needs servers" $zone) }}
{{- end }}
{{- range .servers }}
{{- $upstream = append $upstream (ternary . (printf "%s=%s" $zone .) (eq $zone ".")) }}
{{- end }}
{{- end }}
{{- $config := dict
  "upstream" $upstream
  "cacheSize" .Values.cache.size
  "cacheMemory" .Values.cache.memory
  "minTtl" .Values.cache.minTtl
  "maxTtl" .Values.cache.maxTtl
  "negativeMaxTtl" .Values.cache.negativeMaxTtl
  "zoneTtl" .Values.cache.zoneTtl
  "serveStale" .Values.cache.serveStale
  "lameduck" .Values.lameduck
  "metrics" (printf "0.0.0.0:%v" .Values.metricsPort)
  "logFormat" .Values.logFormat
  "podWatch" (ternary "auto" "off" .Values.podWatch.enabled)
  "autopath" .Values.podWatch.autopath
  "clusterDomain" .Values.podWatch.clusterDomain
}}
{{- if include "nodedns.redirected" . }}
{{- $_ := set $config "listen" (list (printf "0.0.0.0:%v" .Values.dnsPort)) }}
{{- else }}
{{- $_ := set $config "localIp" (join "," .Values.localIps) }}
{{- $_ := set $config "dnsPort" .Values.dnsPort }}
{{- end }}
{{- mustMergeOverwrite $config .Values.extraConfig | toPrettyJson }}
{{- end }}

{{- define "nodedns.args" -}}
{{- $args := list "serve" "--config" "/etc/nodedns/nodedns.json" }}
{{- if include "nodedns.setsUpNode" . }}
{{- $args = concat $args (list "--setup-interface" "--setup-iptables" "--firewall" .Values.nodeSetup.mode "--interface" .Values.nodeSetup.interface) }}
{{- if .Values.nodeSetup.failOpen }}
{{- $args = append $args "--fail-open" }}
{{- end }}
{{- end }}
{{- if and .Values.handoff.enabled (not (include "nodedns.redirected" .)) }}
{{- $args = concat $args (list "--handoff-socket" "/run/nodedns/handoff.sock" "--lock-file" "/run/nodedns/nodedns.lock") }}
{{- end }}
{{- if and .Values.handoff.enabled .Values.handoff.snapshot }}
{{- $args = concat $args (list "--snapshot" "/run/nodedns/cache.snapshot") }}
{{- end }}
{{- concat $args .Values.extraArgs | toJson }}
{{- end }}

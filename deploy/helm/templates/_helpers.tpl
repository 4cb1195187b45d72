{{/* The chart's name. */}}
{{- define "runner.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" }}
{{- end }}

{{/* The full name of the release's objects. */}}
{{- define "runner.fullname" -}}
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

{{/* The labels that select the serve pod. */}}
{{- define "runner.selectorLabels" -}}
app.kubernetes.io/name: {{ include "runner.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/component: serve
{{- end }}

{{/* The labels of every object. */}}
{{- define "runner.labels" -}}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" }}
{{ include "runner.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end }}

{{/* The service account's name. */}}
{{- define "runner.serviceAccountName" -}}
{{- if .Values.serviceAccount.create }}
{{- default (include "runner.fullname" .) .Values.serviceAccount.name }}
{{- else }}
{{- required "serviceAccount.name is required when serviceAccount.create is false" .Values.serviceAccount.name }}
{{- end }}
{{- end }}

{{/* The image reference. */}}
{{- define "runner.image" -}}
{{- printf "%s:%s" .Values.image.repository (default .Chart.AppVersion .Values.image.tag) }}
{{- end }}

{{/* The Secret of the chart's own secret values (the UI token, the Slack webhook). */}}
{{- define "runner.secretName" -}}
{{- include "runner.fullname" . }}
{{- end }}

{{/* Whether the chart stores a value in its own Secret. */}}
{{- define "runner.ownSecret" -}}
{{- if or (and .Values.ui.token (not .Values.ui.existingSecret)) (and .Values.slack.webhookUrl (not .Values.slack.existingSecret)) }}true{{ end }}
{{- end }}

{{/* The pipelines ConfigMap's name ("" when the pipelines come from the image). */}}
{{- define "runner.pipelinesConfigMap" -}}
{{- if eq .Values.pipelines.source "configMap" }}
{{- default (printf "%s-pipelines" (include "runner.fullname" .)) .Values.pipelines.existingConfigMap }}
{{- end }}
{{- end }}

{{/* A pipelines path as a ConfigMap key (a key cannot hold "/"). */}}
{{- define "runner.pipelineKey" -}}
{{- . | replace "/" "__" }}
{{- end }}

{{/* The seconds of a duration such as 30s, 5m, 1h or a bare number (runner.grace). */}}
{{- define "runner.durationSeconds" -}}
{{- $d := toString . }}
{{- if regexMatch "^[0-9]+$" $d }}{{ $d }}
{{- else if regexMatch "^[0-9]+s$" $d }}{{ trimSuffix "s" $d }}
{{- else if regexMatch "^[0-9]+m$" $d }}{{ mul (trimSuffix "m" $d | int) 60 }}
{{- else if regexMatch "^[0-9]+h$" $d }}{{ mul (trimSuffix "h" $d | int) 3600 }}
{{- else }}{{ fail (printf "runner.grace must be a number of seconds or NUMBER followed by s, m or h (e.g. 30s, 5m), not %q" $d) }}
{{- end }}
{{- end }}

{{/* Fails on values that would make a pod that cannot start or that leaks a secret. */}}
{{- define "runner.validate" -}}
{{- if and (not .Values.ui.token) (not .Values.ui.existingSecret) }}
{{- fail "ui.token or ui.existingSecret is required: runner serve listens on 0.0.0.0 in the pod and refuses to start without a web UI token (RUNNER_UI_TOKEN)" }}
{{- end }}
{{- if and .Values.ui.token (lt (len .Values.ui.token) 16) }}
{{- fail "ui.token must be at least 16 characters (runner serve refuses a shorter one); e.g. openssl rand -hex 24" }}
{{- end }}
{{- if not (has .Values.pipelines.source (list "image" "configMap")) }}
{{- fail (printf "pipelines.source must be image or configMap, not %q" .Values.pipelines.source) }}
{{- end }}
{{- if and (eq .Values.pipelines.source "configMap") (not .Values.pipelines.files) (not .Values.pipelines.existingConfigMap) }}
{{- fail "pipelines.source is configMap: set pipelines.files (path: YAML text) or pipelines.existingConfigMap" }}
{{- end }}
{{- $grace := include "runner.durationSeconds" .Values.runner.grace | int }}
{{- if le (int .Values.terminationGracePeriodSeconds) $grace }}
{{- fail (printf "terminationGracePeriodSeconds (%d) must be larger than runner.grace (%ds): the kubelet would kill serve before running runs are canceled cleanly" (int .Values.terminationGracePeriodSeconds) $grace) }}
{{- end }}
{{- range .Values.runner.extraEnv }}
{{- if and (hasKey . "value") (regexMatch "(?i)(token|secret|password|webhook|key)" .name) }}
{{- fail (printf "runner.extraEnv %s looks like a secret but has a literal value: use valueFrom.secretKeyRef (a value would be readable in the Deployment)" .name) }}
{{- end }}
{{- end }}
{{- end }}

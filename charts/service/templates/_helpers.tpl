{{/*
Name of every object: values.name, else the release name (DNS label, 63 chars).
*/}}
{{- define "service.name" -}}
{{- default .Release.Name .Values.name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "service.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Selector labels: never change for a release (Deployment selectors are immutable).
*/}}
{{- define "service.selectorLabels" -}}
app.kubernetes.io/name: {{ include "service.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "service.labels" -}}
{{ include "service.selectorLabels" . }}
app.kubernetes.io/component: {{ .Values.component }}
app.kubernetes.io/part-of: {{ .Values.partOf }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ include "service.chart" . }}
{{- with .Values.image.tag }}
{{- if regexMatch "^[A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?$" . }}
app.kubernetes.io/version: {{ . | quote }}
{{- end }}
{{- end }}
{{- end -}}

{{- define "service.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "service.name" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
The image reference: always repository@digest. An empty digest is a release that never
happened for this environment: fail instead of deploying a moving tag.
*/}}
{{- define "service.image" -}}
{{- $env := (.Values.global).environment | default "<environment>" -}}
{{- if not .Values.image.repository -}}
{{- fail (printf "image.repository is empty for %s: set it in charts/values/%s.yaml or the environment's values file" (include "service.name" .) (include "service.name" .)) -}}
{{- end -}}
{{- if not .Values.image.digest -}}
{{- fail (printf "image.digest is empty for %s: run devops release --env %s" (include "service.name" .) $env) -}}
{{- end -}}
{{- if not (regexMatch "^sha256:[a-f0-9]{64}$" .Values.image.digest) -}}
{{- fail (printf "image.digest %q of %s is not sha256:<64 hex>" .Values.image.digest (include "service.name" .)) -}}
{{- end -}}
{{- printf "%s@%s" .Values.image.repository .Values.image.digest -}}
{{- end -}}

{{/*
The readiness path doubles as the ALB target health check unless one is given.
*/}}
{{- define "service.healthcheckPath" -}}
{{- default .Values.probes.readiness.path .Values.ingress.healthcheckPath -}}
{{- end -}}

{{/*
Labels every object of this chart carries.
*/}}
{{- define "observability.labels" -}}
app.kubernetes.io/name: shop-observability
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/part-of: techitfactory-shop
app.kubernetes.io/managed-by: {{ .Release.Service }}
helm.sh/chart: {{ printf "%s-%s" .Chart.Name .Chart.Version }}
{{- end -}}

{{/*
A file's stem as a DNS label: dashboards/shop-cart.json -> shop-cart. Fails on a name that
cannot become part of an object name (the ConfigMap/PrometheusRule would be refused).
Args: path.
*/}}
{{- define "observability.stem" -}}
{{- $stem := base . | trimSuffix (ext .) -}}
{{- if not (regexMatch "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$" $stem) -}}
{{- fail (printf "%s: the file name must be lower-case letters, digits and dashes (it names a Kubernetes object)" .) -}}
{{- end -}}
{{- $stem -}}
{{- end -}}

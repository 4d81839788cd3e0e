{{/*
The environment this chart renders: required, a DNS label (it goes into object names).
*/}}
{{- define "apps.env" -}}
{{- $env := required "environment is empty: render gitops/apps with values-<env>.yaml (see gitops/bootstrap/<env>.yaml)" .Values.environment -}}
{{- if not (regexMatch "^[a-z][a-z0-9-]{0,20}$" $env) -}}
{{- fail (printf "environment %q is not a lower-case name like dev or prod" $env) -}}
{{- end -}}
{{- $env -}}
{{- end -}}

{{- define "apps.project" -}}
{{- default (printf "shop-%s" (include "apps.env" .)) .Values.project -}}
{{- end -}}

{{/*
The AppProject of the cluster add-ons (Argo CD itself, load balancer controller, external-dns,
metrics-server, the autoscaler): cluster-<env>, defined in gitops/bootstrap/<env>.yaml.
*/}}
{{- define "apps.clusterProject" -}}
{{- default (printf "cluster-%s" (include "apps.env" .)) .Values.clusterProject -}}
{{- end -}}

{{/*
The autoscaler of this environment: none | cluster-autoscaler | karpenter. Exactly one value, so
Cluster Autoscaler and Karpenter can never both run (docs/platform.md, "Autoscaler").
*/}}
{{- define "apps.autoscaler" -}}
{{- $mode := toString (default "none" .Values.autoscaler) -}}
{{- if not (has $mode (list "none" "cluster-autoscaler" "karpenter")) -}}
{{- fail (printf "autoscaler %q is not none, cluster-autoscaler or karpenter" $mode) -}}
{{- end -}}
{{- $mode -}}
{{- end -}}

{{/*
Whether a platform entry is on: `autoscalerMode` entries follow `autoscaler`, the rest `enabled`.
Args: root, cfg.
*/}}
{{- define "apps.platformEnabled" -}}
{{- $cfg := .cfg -}}
{{- if $cfg.autoscalerMode -}}
{{- if eq (include "apps.autoscaler" .root) $cfg.autoscalerMode }}true{{ end -}}
{{- else if $cfg.enabled -}}
true
{{- end -}}
{{- end -}}

{{/*
A file of the GitOps repository as Argo CD sees it through the `ref: values` source:
$values/<gitops.path>/<file> (or $values/<file> when the GitOps repo keeps them at its root).
*/}}
{{- define "apps.gitopsFile" -}}
{{- $root := .root -}}
{{- $path := trimSuffix "/" (trimPrefix "./" ($root.Values.repos.gitops.path | default "")) -}}
{{- if or (eq $path "") (eq $path ".") -}}
{{- printf "$values/%s" .file -}}
{{- else -}}
{{- printf "$values/%s/%s" $path .file -}}
{{- end -}}
{{- end -}}

{{/*
The `ref: values` source: the GitOps repository, read for value files only.
*/}}
{{- define "apps.valuesSource" -}}
- repoURL: {{ required "repos.gitops.url is empty" .Values.repos.gitops.url | quote }}
  targetRevision: {{ required "repos.gitops.revision is empty" .Values.repos.gitops.revision | quote }}
  ref: values
{{- end -}}

{{/*
Metadata every child Application shares. Args: root, name, wave, tier, cascade (optional:
false leaves out the cascade finalizer, for Argo CD's own Application).
*/}}
{{- define "apps.metadata" -}}
{{- $env := include "apps.env" .root -}}
metadata:
  name: {{ printf "%s-%s" .name $env }}
  namespace: {{ .root.Values.argocdNamespace }}
  labels:
    app.kubernetes.io/part-of: techitfactory-shop
    app.kubernetes.io/managed-by: argocd-app-of-apps
    techitfactory.com/environment: {{ $env }}
    techitfactory.com/tier: {{ .tier }}
  annotations:
    argocd.argoproj.io/sync-wave: {{ .wave | toString | quote }}
    # For the root Application: removing this Application from git (a deleted or disabled
    # entry, a broken values file) waits for a person to confirm the prune; with the cascade
    # finalizer below an automatic prune would delete everything it deployed.
    argocd.argoproj.io/sync-options: Prune=confirm
  {{- if not (eq (toString .cascade) "false") }}
  # Deleting the Application deletes what it deployed (cascade), instead of orphaning it.
  finalizers:
    - resources-finalizer.argocd.argoproj.io
  {{- end }}
{{- end -}}

{{/*
The sync policy. Args: root, serverSideApply (bool), ignoreReplicas (bool), namespaceLabels (map or nil).
*/}}
{{- define "apps.syncPolicy" -}}
{{- $sync := .root.Values.sync -}}
syncPolicy:
  {{- if $sync.automated }}
  automated:
    prune: {{ $sync.prune }}
    selfHeal: {{ $sync.selfHeal }}
  {{- end }}
  syncOptions:
    - CreateNamespace=true
    # Delete removed objects only after the new ones are healthy.
    - PruneLast=true
    - ApplyOutOfSyncOnly=true
    {{- if .serverSideApply }}
    - ServerSideApply=true
    {{- end }}
    {{- if .ignoreReplicas }}
    # Syncs keep the live replica count, which the HorizontalPodAutoscaler owns.
    - RespectIgnoreDifferences=true
    {{- end }}
  {{- with .namespaceLabels }}
  managedNamespaceMetadata:
    labels:
      {{- toYaml . | nindent 6 }}
  {{- end }}
  retry:
    limit: {{ $sync.retry.limit }}
    backoff:
      duration: {{ $sync.retry.backoff.duration | quote }}
      factor: {{ $sync.retry.backoff.factor }}
      maxDuration: {{ $sync.retry.backoff.maxDuration | quote }}
{{- end -}}

"""The GitOps engine: edit the environment's values files and release record in the GitOps
repository, as one commit per change, pushed compare-and-swap (or as a pull request).

Public API (see docs/gitops-engine.md): `change` (ImageUpdate, ChangeSet, PublishResult),
`repo.GitOpsRepo`, `values` (the byte-preserving scalar patcher), `record` (ReleaseRecord).
"""

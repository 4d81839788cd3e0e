"""Quality gates: Trivy scan policy, ignore files, verdicts, the scan cache, the Sonar gate.

Pure functions that take adapters and settings and return dataclasses; the CLI commands
`scan`, `quality` and `gate` render them. See docs/gates.md.
"""

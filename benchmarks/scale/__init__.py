"""The scale benchmark's parts (issue 18): a synthetic monorepo and GitOps repository of any
size (`generator`), the instruments that count what a `devops` command costs (`instruments`:
PATH shims for git, docker and trivy, a counting proxy in front of the registry) and the plots
(`plots`). `benchmarks/bench_scale.py` drives them; tests may import the generator too.
"""

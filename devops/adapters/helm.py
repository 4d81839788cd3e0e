"""Helm charts without a `helm` binary: Helm's own Go SDK through PyPI `helm-python-sdk`.

`devops cluster bootstrap` installs Argo CD the way Argo CD itself deploys a chart: it renders
the chart (`helm template`, offline, no release record) and applies the objects. The archive
`<chart>-<version>.tgz` is taken from the chart cache folder when it is there (air-gapped
machines: put it there with `helm pull`), otherwise pulled from the chart's repository into the
cache and checked against the digest the repository's index gives. Either way the archive must
say the chart name and version that are pinned, or nothing is rendered.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from devops.errors import ExternalError


def _helm() -> Any:
    try:
        import helm_python
    except ImportError as exc:  # the package ships Helm's SDK as a shared library
        raise ExternalError(f"helm-python-sdk cannot be loaded: {exc}",
                            hint="pip install 'helm-python-sdk>=0.2.2'") from None
    return helm_python


def oci_reference(repo: str, chart: str) -> str | None:
    """`oci://host/path/chart` for an OCI repository (Argo CD writes those without a scheme)."""
    if repo.startswith("oci://"):
        return f"{repo.rstrip('/')}/{chart}"
    if not repo.startswith(("http://", "https://")):
        return f"oci://{repo.rstrip('/')}/{chart}"
    return None


class HelmCharts:
    """Chart archives in `cache` (created when missing), pulled when absent, rendered offline."""

    def __init__(self, cache: Path) -> None:
        self.cache = cache

    def archive(self, repo: str, chart: str, version: str) -> tuple[Path, str]:
        """The archive of `chart` `version` and where it came from ("cache" or "pulled")."""
        helm = _helm()
        path = self.cache / f"{chart}-{version}.tgz"
        if path.is_file():
            self._check(path, chart, version)
            return path, "cache"
        self.cache.mkdir(parents=True, exist_ok=True)
        oci = oci_reference(repo, chart)
        try:
            if oci is not None:
                helm.pull(oci, version=version, destination=str(self.cache))
            else:
                helm.pull(chart, repo_url=repo, version=version, destination=str(self.cache))
                self._check_digest(repo, chart, version, path)
        except helm.HelmError as exc:
            path.unlink(missing_ok=True)
            raise ExternalError(f"helm pull {chart} {version} from {repo}: {exc}",
                                hint=f"no network to the chart repository? put {path.name} (helm pull {chart} "
                                     f"--repo {repo} --version {version}) into {self.cache}") from None
        if not path.is_file():
            raise ExternalError(f"helm pull {chart} {version} from {repo} wrote no {path.name} into {self.cache}")
        self._check(path, chart, version)
        return path, "pulled"

    def _check_digest(self, repo: str, chart: str, version: str, path: Path) -> None:
        helm = _helm()
        index = helm.repo_index(repo)
        listed = [e for e in (index.get("entries") or {}).get(chart) or [] if str(e.get("version")) == version]
        wanted = str(listed[0].get("digest") or "") if listed else ""
        found = helm.digest(str(path)).removeprefix("sha256:")
        if wanted and wanted.removeprefix("sha256:") != found:
            path.unlink(missing_ok=True)
            raise ExternalError(f"{path.name} from {repo} has digest sha256:{found}, the repository's index says "
                                f"{wanted}", hint="nothing was rendered; the download was corrupted or altered")

    def _check(self, path: Path, chart: str, version: str) -> None:
        helm = _helm()
        try:
            loaded = helm.Chart.load(str(path))
            name, found = loaded.name, loaded.version
            loaded.close()
        except helm.HelmError as exc:
            raise ExternalError(f"{path}: not a chart archive Helm can load: {exc}",
                                hint="delete it; the next run pulls it again") from None
        if (name, found) != (chart, version):
            raise ExternalError(f"{path} holds chart {name} {found}, not the pinned {chart} {version}",
                                hint="delete it; the next run pulls the pinned version")

    def render(self, archive: Path, values: Mapping[str, Any], *, release: str,
               namespace: str) -> list[tuple[str, str]]:
        """(source, YAML text) of the chart's CRDs (crds/) and rendered templates, as `helm template
        --include-crds` gives them."""
        helm = _helm()
        try:
            chart = helm.Chart.load(str(archive))
            try:
                crds = [(str(item["name"]), str(item["data"])) for item in chart.crds]
                rendered = chart.render(dict(values), name=release, namespace=namespace, is_install=True)
            finally:
                chart.close()
        except helm.HelmError as exc:
            raise ExternalError(f"helm template {archive.name} (release {release}, namespace {namespace}): {exc}",
                                hint="check the values files given to the chart") from None
        templates = sorted((path, text) for path, text in rendered.items() if not path.endswith("NOTES.txt"))
        return crds + templates

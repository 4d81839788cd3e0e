"""One PNG per curve of the scale benchmark (matplotlib, headless).

Each plot shows this run's figures; with `compare` (an earlier run's JSON, e.g. before.json)
its curve is drawn dashed beside them, so a before/after pair reads at a glance. Target lines
are the issue's (issue 18), drawn relative to the smallest size measured.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

Figures = dict[str, Any]


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _series(data: Figures | None, section: str, key: str, path: tuple[str, ...]) -> tuple[list[int], list[float]]:
    if not data or section not in data:
        return [], []
    rows = data[section].get(key, {})
    xs, ys = [], []
    for size in sorted(rows, key=int):
        value: Any = rows[size]
        for step in path:
            value = value.get(step) if isinstance(value, dict) else None
        if isinstance(value, int | float):
            xs.append(int(size))
            ys.append(float(value))
    return xs, ys


def _curves(ax: Any, data: Figures, compare: Figures | None, compare_label: str, section: str, key: str,
            curves: list[tuple[str, tuple[str, ...]]]) -> None:
    for index, (label, path) in enumerate(curves):
        color = f"C{index}"
        xs, ys = _series(data, section, key, path)
        if xs:
            ax.plot(xs, ys, "o-", color=color, label=f"{label} ({data['meta']['label']})")
            for x, y in zip(xs, ys, strict=True):
                ax.annotate(f"{y:.2f}" if y < 100 else f"{y:.0f}", (x, y), textcoords="offset points",
                            xytext=(4, 4), fontsize=7, color=color)
        cx, cy = _series(compare, section, key, path)
        if cx:
            ax.plot(cx, cy, "x--", color=color, alpha=0.6, label=f"{label} ({compare_label})")


def _target(ax: Any, data: Figures, section: str, key: str, path: tuple[str, ...], factor: float, text: str) -> None:
    xs, ys = _series(data, section, key, path)
    if xs:
        ax.plot([xs[0], xs[-1]], [ys[0], ys[0] * factor], ":", color="grey", label=text)


def _save(fig: Any, plt: Any, out: Path) -> Path:
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def plot_all(data: Figures, folder: Path, compare: Figures | None = None, compare_label: str = "before") -> list[Path]:
    """Write every plot this run has figures for; return the files."""
    plt = _pyplot()
    folder.mkdir(parents=True, exist_ok=True)
    label = data["meta"]["label"]
    written: list[Path] = []

    if data.get("scale"):
        fig, ax = plt.subplots(figsize=(7, 4.5))
        _curves(ax, data, compare, compare_label, "scale", "by_n", [
            ("plan --base HEAD~1", ("plan_base", "seconds")), ("plan (local images)", ("plan_local", "seconds")),
            ("plan --base HEAD~1, bases pinned by digest", ("plan_pinned", "seconds"))])
        _target(ax, data, "scale", "by_n", ("plan_base", "seconds"), 2.0, "target: N=max <= 2x N=min")
        ax.set(title="devops plan, 1 of N services changed", xlabel="services (N)", ylabel="seconds (median)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
        written.append(_save(fig, plt, folder / f"{label}-plan-vs-services.png"))

        fig, ax = plt.subplots(figsize=(7, 4.5))
        _curves(ax, data, compare, compare_label, "scale", "by_n", [
            ("release, 1 changed", ("release_one", "seconds")), ("release, nothing changed", ("release_noop", "seconds"))])
        _target(ax, data, "scale", "by_n", ("release_one", "seconds"), 1.5, "target: N=max <= 1.5x N=min")
        ax.set(title="devops release --env dev", xlabel="services (N)", ylabel="seconds (median)")
        ax.set_ylim(bottom=0)
        ax.legend(fontsize=7)
        written.append(_save(fig, plt, folder / f"{label}-release-vs-services.png"))

        fig, ax = plt.subplots(figsize=(7, 4.5))
        _curves(ax, data, compare, compare_label, "scale", "by_n", [
            ("git processes", ("release_one", "git_processes")),
            ("docker CLI processes", ("release_one", "docker_processes")),
            ("registry requests", ("release_one", "registry_requests")),
            ("trivy processes", ("release_one", "trivy_processes")),
            ("GitOps commits", ("release_one", "gitops_commits"))])
        ax.set(title="devops release --env dev, 1 of N changed: what it starts and asks",
               xlabel="services (N)", ylabel="count (one run)")
        ax.set_yscale("symlog", linthresh=10)
        ax.legend(fontsize=7)
        written.append(_save(fig, plt, folder / f"{label}-release-counts-vs-services.png"))

    if data.get("environments"):
        fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4.5))
        _curves(left, data, compare, compare_label, "environments", "by_m", [
            ("promote 1 to prod", ("promote", "seconds")), ("status (all)", ("status", "seconds")),
            ("release dev, 1 changed", ("release_one", "seconds"))])
        _target(left, data, "environments", "by_m", ("status", "seconds"), 2.0, "target: M=max <= 2x M=min")
        left.set(title=f"N={data['environments']['services']} services", xlabel="environments (M)",
                 ylabel="seconds (median)")
        left.set_ylim(bottom=0)
        left.legend(fontsize=7)
        _curves(right, data, compare, compare_label, "environments", "by_m", [
            ("promote: clones+fetches", ("promote", "clones_fetches")),
            ("status: clones+fetches", ("status", "clones_fetches"))])
        right.axhline(1, linestyle=":", color="grey", label="target: 1")
        right.set(title="GitOps repository clones and fetches", xlabel="environments (M)", ylabel="count (one run)")
        right.set_ylim(bottom=0)
        right.legend(fontsize=7)
        written.append(_save(fig, plt, folder / f"{label}-environments.png"))

    headline = [f for f in data.get("figures", []) if f.get("kind") == "ratio" and f.get("value") is not None]
    if headline:
        fig, ax = plt.subplots(figsize=(8, 0.45 * len(headline) + 1.5))
        names = [f["id"] for f in headline]
        values = [f["value"] for f in headline]
        limits = [f["limit"] for f in headline]
        colors = ["tab:green" if f["meets"] else "tab:red" for f in headline]
        ys = list(range(len(headline)))
        ax.barh(ys, values, color=colors, alpha=0.8, label=label)
        ax.scatter(limits, ys, marker="|", s=300, color="black", label="target (at most)", zorder=3)
        if compare:
            before = {f["id"]: f.get("value") for f in compare.get("figures", [])}
            xs = [before.get(n) for n in names]
            ax.scatter([x for x in xs if x is not None], [y for y, x in zip(ys, xs, strict=True) if x is not None],
                       marker="x", color="grey", label=compare_label, zorder=3)
        for y, value in zip(ys, values, strict=True):
            ax.annotate(f"{value:.3g}", (value, y), textcoords="offset points", xytext=(4, -3), fontsize=7)
        ax.set_yticks(ys, names, fontsize=7)
        ax.set_xscale("log")
        ax.set_xlim(left=min(values + limits) / 2, right=max(values + limits) * 2)
        ax.set(title="Ratios against the issue's targets (green: met)", xlabel="ratio (log scale)")
        ax.legend(fontsize=7)
        written.append(_save(fig, plt, folder / f"{label}-ratios.png"))

    help_rows = (data.get("help") or {}).get("commands") or {}
    if help_rows:
        items = sorted(help_rows.items(), key=lambda kv: kv[1]["ratio"])
        fig, ax = plt.subplots(figsize=(7, 0.22 * len(items) + 1.5))
        ys = list(range(len(items)))
        ax.barh(ys, [v["ratio"] for _, v in items], color="tab:blue", alpha=0.8, label=label)
        if compare:
            before = (compare.get("help") or {}).get("commands") or {}
            xs = [before.get(k, {}).get("ratio") for k, _ in items]
            ax.scatter([x for x in xs if x is not None], [y for y, x in zip(ys, xs, strict=True) if x is not None],
                       marker="x", color="grey", label=compare_label, zorder=3)
        ax.axvline(3, linestyle=":", color="red", label="target: at most 3x")
        ax.set_yticks(ys, [k for k, _ in items], fontsize=6)
        ax.set(title="--help start-up / python -c pass", xlabel="ratio (median of samples)")
        ax.legend(fontsize=7)
        written.append(_save(fig, plt, folder / f"{label}-help-startup.png"))
    return written

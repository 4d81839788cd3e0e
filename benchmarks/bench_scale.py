"""Scale benchmark (issue 18): does a command cost what changed, or what exists?

    python benchmarks/bench_scale.py                      # the full run (about 20 min on 2 cores)
    python benchmarks/bench_scale.py --quick              # N in {10, 20}, M in {2, 4}, no shop builds (~3 min)
    python benchmarks/bench_scale.py --services 10,100 --environments 2,20 --sections scale,environments
    nox -s bench -- scale --quick                         # the same through nox

Every figure drives the real `devops` CLI (`python -m devops`, this checkout on PYTHONPATH) in a
subprocess, against the real Docker engine, the local registry (127.0.0.1:5000, through a
counting proxy, in a fresh namespace) and Trivy (offline, the small planted DB of
tests/gates/trivydb.py). Git, docker and trivy processes are counted by shims on PATH.

Sections (`--sections`, default all):
- help: every command's and subcommand's `--help` against `python -c pass` (item 5);
- scale: synthetic monorepos of N services (benchmarks/scale/generator.py), 1 of N changed:
  `devops plan` (with --base and without), `devops release --env dev` with one change and with
  nothing changed, and the processes and requests each costs (item 2);
- environments: N = the largest N, M environments: `devops release --env prod` promoting 1
  service, `devops status` over all of them, and the GitOps clones/fetches each costs (item 2);
- shop: the shop's four real services with the stand-in base images (made cold by fresh
  labelled copies, so nothing is served from Docker's layer cache): first `devops build` and a
  no-op one, a first scan and a cached one, a cold `devops release` against plain sequential
  `docker build` + `trivy image` (items 3 and 4).

Every figure is printed as a ratio measured in this one run, with absolute seconds; the JSON
(`--out`, default benchmarks/results/<label>.json) keeps the samples, counts and the load
average; `--plots DIR` writes a PNG per curve (with `--compare FILE`, an earlier run dashed
beside it). `--profile DIR` re-runs the three costliest no-op paths once under cProfile and
`-X importtime` and writes what they counted there (benchmarks/results/profile-before.md reads it).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.scale.generator import ScaleProject, commit_all, git, make_scale_project  # noqa: E402
from benchmarks.scale.instruments import (  # noqa: E402
    CountingProxy,
    Measured,
    Shims,
    devops_env,
    load_average,
    real_tool,
    run_devops,
    timed,
)
from tests.gates.trivydb import Advisory, build_db  # noqa: E402

REGISTRY = os.environ.get("DEVOPS_TEST_REGISTRY", "127.0.0.1:5000")
CLEAN = [Advisory("CVE-2099-2001", "zlib", "MEDIUM", "1:1.2.13.dfsg-1+deb12u1", title="zlib: planted medium")]
SHOP_SERVICES = ("frontend", "product", "cart", "order")
LOADS: list[list[float]] = []
CHECKOUT = ROOT  # whose devops/ is measured (--checkout): e.g. a worktree of the code before a change


def note_load() -> list[float]:
    load = load_average()
    LOADS.append(load)
    return load


def say(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')} load {' '.join(map(str, load_average()))}] {message}", flush=True)


def standin_args() -> dict[str, str]:
    done = subprocess.run(["bash", str(ROOT / "tests/support/standins/build.sh")], capture_output=True, text=True,
                          check=True, timeout=1800)
    return dict(line.split("=", 1) for line in done.stdout.split() if "=" in line)


def median(values: list[float]) -> float:
    return round(statistics.median(values), 3)


def sample(measured: list[Measured], extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """The median of several runs, with the counts of the last (counts do not vary run to run)."""
    last = measured[-1]
    return {"seconds": median([m.seconds for m in measured]), "samples": [round(m.seconds, 3) for m in measured],
            **last.counts(), **(extra or {})}


def ratio(a: float, b: float) -> float | None:
    return round(a / b, 4) if b else None


def clones_fetches(m: Measured) -> int:
    return m.git.get("clone", 0) + m.git.get("fetch", 0)


def remove_images(refs: list[str]) -> None:
    for start in range(0, len(refs), 100):
        subprocess.run(["docker", "rmi", "-f", *refs[start:start + 100]], capture_output=True)


def cold_leftovers(run: str) -> list[str]:
    """Untagged images built on a run's cold bases (the `deps` stages of multi-stage builds)."""
    return subprocess.run(["docker", "images", "-q", "-f", "dangling=true", "-f", f"label=bench.cold={run}"],
                          capture_output=True, text=True).stdout.split()


def namespace_images(namespace: str) -> list[str]:
    listed = subprocess.run(["docker", "images", "--format", "{{.Repository}}:{{.Tag}}"],
                            capture_output=True, text=True).stdout.split()
    return [ref for ref in listed if f"/{namespace}/" in ref or ref.startswith(f"{namespace}/")]


# --------------------------------------------------------------------------- item 5: --help


def help_commands(env: dict[str, str]) -> list[list[str]]:
    """Every command path, read from the help screens themselves (independent of the package layout)."""
    found: list[list[str]] = []

    def walk(path: list[str]) -> None:
        found.append(path)
        done = subprocess.run([sys.executable, "-m", "devops", *path, "--help"], capture_output=True, text=True,
                              env=env, cwd=ROOT, timeout=60)
        if done.returncode != 0:
            raise SystemExit(f"bench: devops {' '.join(path)} --help exited {done.returncode}: {done.stderr[-500:]}")
        commands = done.stdout.split("\nCommands:\n", 1)
        if len(commands) == 2:
            for line in commands[1].splitlines():
                match = re.match(r"^  ([a-z][a-z0-9-]*)(\s|$)", line)
                if match:
                    walk([*path, match.group(1)])
                elif line.strip() and not line.startswith(" "):
                    break

    walk([])
    return found


def bench_help(repeat: int) -> dict[str, Any]:
    env = devops_env(None, checkout=CHECKOUT)
    commands = help_commands(env)
    say(f"help: {len(commands)} commands, {repeat} rounds")
    bare: list[float] = []
    samples: dict[str, list[float]] = {" ".join(["devops", *c, "--help"]): [] for c in commands}
    for _ in range(repeat):  # rounds interleave commands, so a burst of load hits them all alike
        bare.append(timed([sys.executable, "-c", "pass"], env=env, cwd=ROOT))
        for path in commands:
            samples[" ".join(["devops", *path, "--help"])].append(
                timed([sys.executable, "-m", "devops", *path, "--help"], env=env, cwd=ROOT))
    base = statistics.median(bare)
    rows = {name: {"seconds": median(values), "ratio": round(statistics.median(values) / base, 2)}
            for name, values in samples.items()}
    worst = max(rows.items(), key=lambda kv: kv[1]["ratio"])
    return {"python_c_pass_s": round(base, 4), "rounds": repeat, "commands": rows,
            "worst": {"command": worst[0], **worst[1]}}


# --------------------------------------------------------------------------- item 2: N services


class Bench:
    def __init__(self, where: Path, proxy: CountingProxy, shims: Shims, standins: dict[str, str], repeat: int,
                 files: int) -> None:
        self.where, self.proxy, self.shims, self.repeat, self.files = where, proxy, shims, repeat, files
        self.namespace = f"bench{uuid.uuid4().hex[:8]}"
        self.trivy_cache = build_db(where / "trivy-scale", CLEAN)
        self.scan_cache = where / "scan-cache-scale"  # shared: a service's image is scanned once per run
        self.env = devops_env(shims, {"DEVOPS_BUILD_ARGS": f"DEBIAN_IMAGE={standins['DEBIAN_IMAGE']}"},
                              checkout=CHECKOUT)
        self.projects: dict[tuple[int, int], ScaleProject] = {}
        self.namespaces = [self.namespace]
        # The same base pinned by digest (`FROM x@sha256:...` asks the registry nothing): plan with
        # it against plan by tag is the added cost of resolving bases (issue 17, item 6).
        pinned = subprocess.run(["docker", "image", "inspect", "--format", "{{index .RepoDigests 0}}",
                                 standins["DEBIAN_IMAGE"]], capture_output=True, text=True, check=True).stdout.strip()
        self.pinned_env = {**self.env, "DEVOPS_BUILD_ARGS": f"DEBIAN_IMAGE={pinned}"}

    def devops(self, project: ScaleProject, *args: str, ok: tuple[int, ...] = (0,)) -> Measured:
        return run_devops(list(args), cwd=project.root, env=self.env, shims=self.shims, proxy=self.proxy, ok=ok,
                          source_roots=(self.where,))

    def project(self, n: int, m: int) -> tuple[ScaleProject, Measured | None]:
        """The (N, M) project, made and released to dev once (its first release is returned)."""
        if (n, m) in self.projects:
            return self.projects[(n, m)], None
        say(f"generating N={n} services, M={m} environments")
        project = make_scale_project(self.where / f"n{n}-m{m}", services=n, environments=m,
                                     namespace=self.namespace, registry=self.proxy.address,
                                     trivy_cache=self.trivy_cache, scan_cache=str(self.scan_cache),
                                     files_per_service=self.files)
        self.projects[(n, m)] = project
        say(f"N={n} M={m}: first release to dev (builds what no earlier project built)")
        first = self.devops(project, "release", "--env", "dev")
        return project, first

    def release_one(self, project: ScaleProject, token: str) -> tuple[Measured, int]:
        before = project.gitops_commits()
        project.change_service(project.services[0], token)
        measured = self.devops(project, "release", "--env", "dev")
        statuses = {s["service"]: s["status"] for s in measured.result["services"]}
        changed = sorted(name for name, status in statuses.items() if status != "unchanged")
        if changed != [project.services[0]] or statuses[project.services[0]] != "released":
            raise SystemExit(f"bench: expected only {project.services[0]} released, got {changed}")
        return measured, project.gitops_commits() - before

    def scale(self, sizes: list[int]) -> dict[str, Any]:
        """Plan and release with 1 of N changed. Rounds interleave the sizes (ascending, then
        descending), so a burst of load from the shared machine lands on every N alike."""
        cold: dict[str, Any] | None = None
        projects: dict[int, ScaleProject] = {}
        for n in sorted(sizes, reverse=True):  # the largest first: it builds, the others reuse its images
            projects[n], first = self.project(n, 2)
            if cold is None and first is not None:
                cold = {"services": n, "seconds": round(first.seconds, 2), **first.counts()}
        runs: dict[int, dict[str, list[Measured]]] = {n: {k: [] for k in ("plan_base", "plan_pinned", "plan_local",
                                                                          "release_one", "release_noop")}
                                                      for n in sizes}
        commits: dict[int, list[int]] = {n: [] for n in sizes}
        loads: dict[int, list[float]] = {n: [] for n in sizes}
        for r in range(self.repeat):
            for n in sorted(sizes, reverse=bool(r % 2)):
                project, row = projects[n], runs[n]
                loads[n].append(note_load()[0])
                project.change_service(project.services[0], f"plan {r} {uuid.uuid4().hex}")
                row["plan_base"].append(self.devops(project, "plan", "--base", "HEAD~1"))
                matrix = row["plan_base"][-1].result["include"]
                if [entry["service"] for entry in matrix] != [project.services[0]]:
                    raise SystemExit(f"bench: plan --base HEAD~1 found {matrix}, expected {project.services[0]}")
                row["plan_pinned"].append(run_devops(["plan", "--base", "HEAD~1"], cwd=project.root,
                                                      env=self.pinned_env, shims=self.shims, proxy=self.proxy,
                                                      source_roots=(self.where,)))
                row["plan_local"].append(self.devops(project, "plan"))
                one, new_commits = self.release_one(project, f"release {r} {uuid.uuid4().hex}")
                row["release_one"].append(one)
                commits[n].append(new_commits)
                noop_before = project.gitops_commits()
                row["release_noop"].append(self.devops(project, "release", "--env", "dev"))
                if any(s["status"] != "unchanged" for s in row["release_noop"][-1].result["services"]) \
                        or project.gitops_commits() != noop_before:
                    raise SystemExit("bench: a release with nothing changed changed something")
                say(f"round {r + 1}/{self.repeat}, N={n}: plan --base {row['plan_base'][-1].seconds:.2f} s, "
                    f"plan {row['plan_local'][-1].seconds:.2f} s, release one {one.seconds:.2f} s, "
                    f"nothing changed {row['release_noop'][-1].seconds:.2f} s")
        by_n: dict[str, Any] = {}
        for n in sorted(sizes):
            row = runs[n]
            last = row["release_one"][-1]
            one_counts = {"builds": last.docker.get("build", 0) + last.docker.get("buildx build", 0),
                          "scans": last.trivy.get("image", 0),
                          "docker_pushes": last.docker.get("push", 0),
                          "manifest_puts": sum(v for k, v in last.registry.get("by_kind", {}).items()
                                               if k.startswith("docker PUT manifest")),
                          "images_pushed": last.registry.get("repositories_given_a_manifest", 0),
                          "gitops_commits": max(commits[n]),
                          "clones_fetches": clones_fetches(last)}
            by_n[str(n)] = {
                "load_1min_at_samples": loads[n],
                "plan_base": sample(row["plan_base"]), "plan_pinned": sample(row["plan_pinned"]),
                "plan_local": sample(row["plan_local"]),
                "release_one": sample(row["release_one"], one_counts),
                "release_noop": sample(row["release_noop"], {"clones_fetches": clones_fetches(row["release_noop"][-1])}),
            }
        return {"services": sorted(sizes), "files_per_service": self.files, "by_n": by_n, "cold_release": cold}

    def environments(self, n: int, sizes: list[int]) -> dict[str, Any]:
        """Promotion and status over M environments (N services), rounds interleaved as above."""
        projects: dict[int, ScaleProject] = {}
        for m in sorted(sizes):
            projects[m], _ = self.project(n, m)
            projects[m].seed_environments()
        runs: dict[int, dict[str, list[Measured]]] = {m: {"release_one": [], "promote": [], "status": []}
                                                      for m in sizes}
        loads: dict[int, list[float]] = {m: [] for m in sizes}
        for r in range(self.repeat):
            for m in sorted(sizes, reverse=bool(r % 2)):
                project, row = projects[m], runs[m]
                loads[m].append(note_load()[0])
                one, _ = self.release_one(project, f"env {r} {uuid.uuid4().hex}")
                row["release_one"].append(one)
                before = project.gitops_commits()
                promoted = self.devops(project, "release", "--env", "prod", "--services", project.services[0])
                got = [s["status"] for s in promoted.result["services"] if s["service"] == project.services[0]]
                if got != ["released"] or project.gitops_commits() != before + 1:
                    raise SystemExit(f"bench: promotion of {project.services[0]} to prod: {got}")
                row["promote"].append(promoted)
                row["status"].append(self.devops(project, "status"))
                if len(row["status"][-1].result["environments"]) != m:
                    raise SystemExit("bench: status did not report every environment")
                say(f"round {r + 1}/{self.repeat}, M={m}: promote {promoted.seconds:.2f} s "
                    f"({clones_fetches(promoted)} clones), status {row['status'][-1].seconds:.2f} s "
                    f"({clones_fetches(row['status'][-1])} clones)")
        by_m = {str(m): {"load_1min_at_samples": loads[m],
                         **{key: sample(runs[m][key], {"clones_fetches": clones_fetches(runs[m][key][-1])})
                            for key in ("release_one", "promote", "status")}} for m in sorted(sizes)}
        return {"services": n, "environments": sorted(sizes), "by_m": by_m}

    def profile(self, folder: Path, n: int, m: int) -> dict[str, Any]:
        """The three no-op paths once more, under cProfile and -X importtime (files in `folder`)."""
        folder.mkdir(parents=True, exist_ok=True)
        out: dict[str, Any] = {}
        runs = {
            "release-nothing-changed": (self.projects.get((n, 2)), ["release", "--env", "dev"]),
            f"plan-n{n}": (self.projects.get((n, 2)), ["plan", "--base", "HEAD~1"]),
            f"status-m{m}": (self.projects.get((n, m)), ["status"]),
        }
        for name, (project, args) in runs.items():
            if project is None:
                continue
            counted = self.devops(project, *args)
            prof = folder / f"{name}.prof"
            profiled = run_devops(args, cwd=project.root, env=self.env, python_flags=("-m", "cProfile", "-o", str(prof)),
                                  source_roots=(self.where,))
            imports = run_devops(args, cwd=project.root, env=self.env, python_flags=("-X", "importtime"),
                                 source_roots=(self.where,))
            (folder / f"{name}.importtime.txt").write_text(imports.stderr)
            out[name] = {"seconds": round(counted.seconds, 3), "profiled_seconds": round(profiled.seconds, 3),
                         **counted.counts(), "import": import_summary(imports.stderr),
                         "top_cumulative": top_functions(prof, "cumulative"), "top_self": top_functions(prof, "tottime")}
            if shutil.which("py-spy"):
                raw = folder / f"{name}.py-spy.txt"
                spy = [shutil.which("py-spy") or "py-spy", "record", "--idle", "--rate", "250", "--format", "raw",
                       "--output", str(raw), "--", sys.executable, "-m", "devops", "--source-root", str(self.where), "--json", *args]
                subprocess.run(spy, cwd=project.root, env=self.env, capture_output=True, timeout=600)
                if raw.is_file():
                    out[name]["wall_samples"] = wall_summary(raw)
            say(f"profiled {name}")
        (folder / "profile.json").write_text(json.dumps(out, indent=2) + "\n")
        return out


def wall_summary(raw: Path, top: int = 20) -> dict[str, Any]:
    """py-spy --idle samples (wall clock, waits included): by what the process was doing (the
    leaf frame: waiting on a child process, importing, on a socket, Python) and by the deepest
    frame of the devops package on the stack (where in devops that time was spent)."""
    kinds: dict[str, int] = {}
    places: dict[str, int] = {}
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        leaf = frames[-1]
        importing = any("importlib._bootstrap" in f for f in frames)
        if "subprocess.py" in leaf or "selectors.py" in leaf or "_communicate" in leaf or "wait (" in leaf:
            kind = "waiting on a child process (git, docker, trivy)"
        elif importing:
            kind = "importing modules"
        elif "socket.py" in leaf or "ssl.py" in leaf or "http/client.py" in leaf or "recv" in leaf:
            kind = "waiting on a socket (registry)"
        else:
            kind = "running Python"
        kinds[kind] = kinds.get(kind, 0) + count
        own = [f for f in frames if "(devops/" in f or "/devops/" in f]
        place = own[-1] if own and not importing else ("(imports)" if importing else "(outside devops)")
        places[place] = places.get(place, 0) + count
    share = {k: round(v / total, 3) for k, v in sorted(kinds.items(), key=lambda kv: -kv[1])} if total else {}
    where = [{"frame": k, "share": round(v / total, 3)} for k, v in sorted(places.items(), key=lambda kv: -kv[1])[:top]]
    return {"samples": total, "by_kind": share, "by_devops_frame": where}


def import_summary(stderr: str, top: int = 15) -> dict[str, Any]:
    """-X importtime: total microseconds and the costliest top-level imports (cumulative)."""
    rows = []
    for line in stderr.splitlines():
        match = re.match(r"import time:\s+(\d+) \|\s+(\d+) \|(\s*)(\S+)", line)
        if match:
            rows.append((int(match.group(2)), len(match.group(3)), match.group(4)))
    roots = [r for r in rows if r[1] <= 1]
    return {"total_s": round(sum(r[0] for r in roots) / 1e6, 3), "modules": len(rows),
            "top": [{"module": name, "cumulative_s": round(us / 1e6, 3)}
                    for us, _, name in sorted(roots, reverse=True)[:top]]}


def top_functions(prof: Path, key: str, top: int = 25) -> list[dict[str, Any]]:
    import pstats

    stats = pstats.Stats(str(prof))
    rows = []
    for (file, line, func), (_cc, nc, tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        rows.append({"function": f"{Path(file).name}:{line}({func})", "file": file, "calls": nc,
                     "self_s": round(tt, 4), "cumulative_s": round(ct, 4)})
    field = "cumulative_s" if key == "cumulative" else "self_s"
    if key == "cumulative":  # the package's own frames and the waits on the outside world
        wanted = ("/devops/", "subprocess.py", "selectors.py", "python_on_whales", "requests/", "ruamel", "pydantic")
        rows = [r for r in rows if any(w in r["file"] for w in wanted) and "/click/" not in r["file"]]
    return sorted(rows, key=lambda r: r[field], reverse=True)[:top]


# --------------------------------------------------------------------------- items 3 and 4: the shop


def fresh_bases(standins: dict[str, str], run: str, registry: str | None = None) -> dict[str, str]:
    """Labelled copies of the stand-in bases: new image IDs, so Docker's layer cache has nothing
    built on them (a cold build without pruning anything on the shared engine). No new layers.

    Without `registry` they are named under the stand-ins' registry, where they are never
    pushed: the build identity counts a base its registry does not have (404) by the local
    image ID (a name on docker.io would make it ask Docker Hub, which cannot be reached here:
    exit 3), and a release pushing to a registry that never saw their layers compresses and
    uploads them. With `registry` they are named under it and pushed there first, as a user's
    bases come from a registry (`FROM node:20` from Docker Hub): the identity asks the registry
    for their digests, and the daemon mounts their layers into the pushed repositories."""
    fresh = {}
    for key, ref in standins.items():
        host, name = ref.split("/", 1)[0], ref.rsplit("/", 1)[1]
        copy = f"{registry or host}/bench-cold-{run}/{name}"
        subprocess.run(["docker", "build", "-q", "-t", copy, "-"], input=f"FROM {ref}\nLABEL bench.cold={run}\n",
                       text=True, capture_output=True, check=True, timeout=300)
        if registry:
            subprocess.run(["docker", "push", "-q", copy], capture_output=True, check=True, timeout=900)
        fresh[key] = copy
    return fresh


def shop_config(namespace: str, registry: str, remote: Path, trivy_cache: Path, scan_cache: Path,
                services: tuple[str, ...]) -> str:
    """The shop's own services, build and scan policy (pipelines/devops.yaml), pointed at the
    local registry, a local GitOps remote and the planted Trivy DB (offline)."""
    import yaml

    real = yaml.safe_load((ROOT / "pipelines" / "devops.yaml").read_text())
    config = {
        "project": real["project"],
        "registry": {"host": registry, "namespace": namespace, "insecure": True},
        "build": real["build"],
        "services": {name: real["services"][name] for name in services},
        "environments": {"dev": {"url": "http://dev.localhost", "cluster": {"name": "shop-dev"},
                                 "gitops": {"repo": str(remote), "branch": "main",
                                            "path": "gitops/environments/dev", "mode": "commit"}}},
        "gates": {"scan": real["gates"]["scan"], "cache_dir": str(scan_cache),
                  "trivy": {"cache_dir": str(trivy_cache), "offline": True, "timeout_seconds": 900}},
    }
    return yaml.safe_dump(config, sort_keys=False)


def shop_project(where: Path, namespace: str, registry: str, services: tuple[str, ...]) -> tuple[Path, Path]:
    from benchmarks.scale.generator import make_gitops_remote

    root = where / "shop"
    root.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", "--format=tar", "HEAD", *[f"services/{s}" for s in services]],
                             cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(root)], input=archive, check=True)
    remote = make_gitops_remote(where, services=services, environments=("dev",), registry=registry,
                                namespace=namespace)
    return root, remote


def release_project(where: Path, namespace: str, registry: str, services: tuple[str, ...]) -> Path:
    """The shop's services as a committed project ready for `devops release --env dev` into
    `namespace` (its GitOps remote, a fresh Trivy cache with the planted DB, an empty scan cache)."""
    root, remote = shop_project(where, namespace, registry, services)
    trivy = build_db(where / "trivy", CLEAN)
    (root / "pipelines").mkdir()
    (root / "pipelines" / "devops.yaml").write_text(shop_config(namespace, registry, remote, trivy,
                                                                where / "scan-cache", services))
    (root / ".gitignore").write_text(".devops/\n")
    git(root, "init", "-q", "-b", "main")
    commit_all(root, "shop")
    return root


def cold_sample(cold: Measured) -> dict[str, Any]:
    """A cold release's time with what it did: builds, scans, pushes, images given a manifest."""
    return sample([cold], {"builds": cold.docker.get("build", 0), "scans": cold.trivy.get("image", 0),
                           "docker_pushes": cold.docker.get("push", 0),
                           "images_pushed": cold.registry.get("repositories_given_a_manifest", 0),
                           "registry_requests": cold.registry.get("total", 0)})


def bench_shop(where: Path, proxy: CountingProxy, shims: Shims, standins: dict[str, str], repeat: int,
               services: tuple[str, ...], cleanup: list[Callable[[], None]]) -> dict[str, Any]:
    out: dict[str, Any] = {"services": list(services)}
    base_env = devops_env(shims, checkout=CHECKOUT)
    # Side A: devops build (first, then nothing changed) and devops scan (first, then cached).
    run_a = uuid.uuid4().hex[:8]
    ns_a = f"benchshop{run_a}"
    bases_a = fresh_bases(standins, run_a)
    cleanup.append(lambda: remove_images(namespace_images(f"bench-cold-{run_a}") + namespace_images(ns_a)))
    cleanup.append(lambda: remove_images(cold_leftovers(run_a)))
    root_a, remote_a = shop_project(where / "a", ns_a, proxy.address, services)
    trivy_a = build_db(where / "a" / "trivy", CLEAN)
    (root_a / "pipelines").mkdir()
    (root_a / "pipelines" / "devops.yaml").write_text(shop_config(ns_a, proxy.address, remote_a, trivy_a,
                                                                  where / "a" / "scan-cache", services))
    git(root_a, "init", "-q", "-b", "main")
    commit_all(root_a, "shop")
    env_a = {**base_env, "DEVOPS_BUILD_ARGS": " ".join(f"{k}={v}" for k, v in bases_a.items())}

    def shop_devops(root: Path, env: dict[str, str], *args: str, ok: tuple[int, ...] = (0,)) -> Measured:
        return run_devops(list(args), cwd=root, env=env, shims=shims, proxy=proxy, ok=ok, source_roots=(where,))

    note_load()
    say("shop: first devops build (cold: fresh base image IDs)")
    first = shop_devops(root_a, env_a, "build")
    if first.result["summary"] != {"built": len(services)}:
        raise SystemExit(f"bench: first build did not build every service: {first.result['summary']}")
    noops = [shop_devops(root_a, env_a, "build") for _ in range(repeat)]
    if noops[-1].result["summary"] != {"skipped": len(services)}:
        raise SystemExit(f"bench: no-op build built something: {noops[-1].result['summary']}")
    out["build_first"] = sample([first])
    out["build_noop"] = sample(noops)
    say(f"shop: build first {first.seconds:.1f} s, nothing changed {out['build_noop']['seconds']} s")

    scan_first = shop_devops(root_a, env_a, "scan", ok=(0, 1))
    if any(t.get("cached") for t in scan_first.result["targets"]):
        raise SystemExit("bench: the first scan was answered from a cache")
    scans_cached = [shop_devops(root_a, env_a, "scan", ok=(0, 1)) for _ in range(repeat)]
    if not all(t.get("cached") for t in scans_cached[-1].result["targets"]):
        raise SystemExit("bench: the second scan was not answered from the cache")
    out["scan_first"] = sample([scan_first], {"trivy_seconds": scan_first.result.get("trivy_seconds")})
    out["scan_cached"] = sample(scans_cached)
    say(f"shop: scan first {scan_first.seconds:.1f} s, cached {out['scan_cached']['seconds']} s")

    # Side B: plain docker build + trivy image, one after the other (fresh bases, fresh Trivy cache).
    run_b = uuid.uuid4().hex[:8]
    bases_b = fresh_bases(standins, run_b)
    cleanup.append(lambda: remove_images(namespace_images(f"bench-cold-{run_b}") + namespace_images(f"bench-plain-{run_b}")))
    cleanup.append(lambda: remove_images(cold_leftovers(run_b)))
    trivy_b = build_db(where / "b" / "trivy", CLEAN)
    scanners = ",".join(yaml_scan_scanners())
    build_args = [arg for k, v in bases_b.items() for arg in ("--build-arg", f"{k}={v}")]
    note_load()
    say("shop: plain docker build + trivy image, one after the other")
    plain: dict[str, float] = {}
    started = time.perf_counter()
    for service in services:
        plain[f"docker build {service}"] = round(timed(
            ["docker", "build", "-q", "-t", f"bench-plain-{run_b}/{service}", *build_args, str(root_a / "services" / service)],
            env={**os.environ, "DOCKER_BUILDKIT": "0"}), 2)
    for service in services:
        plain[f"trivy image {service}"] = round(timed(
            [real_tool("trivy"), "image", "--quiet", "--cache-dir", str(trivy_b), "--skip-db-update", "--offline-scan",
             "--scanners", scanners, f"bench-plain-{run_b}/{service}"]), 2)
    plain_total = time.perf_counter() - started
    out["plain_sequential"] = {"seconds": round(plain_total, 2), "steps": plain}
    say(f"shop: plain sequential {plain_total:.1f} s")

    # Side C: a cold devops release of the same services (fresh bases, namespace, caches).
    run_c = uuid.uuid4().hex[:8]
    ns_c = f"benchshop{run_c}"
    bases_c = fresh_bases(standins, run_c)
    cleanup.append(lambda: remove_images(namespace_images(f"bench-cold-{run_c}") + namespace_images(ns_c)))
    cleanup.append(lambda: remove_images(cold_leftovers(run_c)))
    root_c = release_project(where / "c", ns_c, proxy.address, services)
    env_c = {**base_env, "DEVOPS_BUILD_ARGS": " ".join(f"{k}={v}" for k, v in bases_c.items())}
    note_load()
    say("shop: cold devops release --env dev")
    cold = shop_devops(root_c, env_c, "release", "--env", "dev")
    out["release_cold"] = cold_sample(cold)
    say(f"shop: cold release {cold.seconds:.1f} s (the registry had never seen the bases' layers)")
    out["release_cold_bases_in_registry"] = cold_release_bases_in_registry(where / "d", proxy, shims, standins,
                                                                          services, base_env, cleanup)
    # The shop's own nothing-changed and one-service releases (order: a source file changes).
    noop = [shop_devops(root_c, env_c, "release", "--env", "dev") for _ in range(repeat)]
    ones = []
    changed = "order" if "order" in services else services[0]
    for r in range(repeat):
        target = next(p for p in sorted((root_c / "services" / changed).rglob("*")) if p.is_file()
                      and p.suffix in (".py", ".js", ".ts", ".tsx") and "test" not in str(p.relative_to(root_c)))
        with target.open("a") as handle:
            handle.write(f"\n# bench change {r} {uuid.uuid4().hex}\n")
        commit_all(root_c, f"change {changed}")
        ones.append(shop_devops(root_c, env_c, "release", "--env", "dev"))
    out["release_noop"] = sample(noop)
    out["release_one"] = sample(ones, {"changed": changed})
    return out


def cold_release_bases_in_registry(where: Path, proxy: CountingProxy, shims: Shims, standins: dict[str, str],
                                   services: tuple[str, ...], base_env: dict[str, str],
                                   cleanup: list[Callable[[], None]]) -> dict[str, Any]:
    """Side D: a cold release whose bases come from the registry it pushes to, as a user's do
    (Docker Hub's `library/node` for a release pushed to Docker Hub): fresh bases (new image
    IDs, nothing built on them), pushed there before the clock starts; fresh namespace, Trivy
    cache and scan cache. The daemon mounts the bases' layers instead of uploading them."""
    run = uuid.uuid4().hex[:8]
    namespace = f"benchshop{run}"
    cleanup.append(lambda: remove_images(namespace_images(f"bench-cold-{run}") + namespace_images(namespace)))
    cleanup.append(lambda: remove_images(cold_leftovers(run)))
    bases = fresh_bases(standins, run, registry=proxy.address)
    root = release_project(where, namespace, proxy.address, services)
    env = {**base_env, "DEVOPS_BUILD_ARGS": " ".join(f"{k}={v}" for k, v in bases.items())}
    note_load()
    say("shop: cold devops release --env dev, bases in the registry")
    cold = run_devops(["release", "--env", "dev"], cwd=root, env=env, shims=shims, proxy=proxy,
                      source_roots=(where.parent,))
    say(f"shop: cold release, bases in the registry {cold.seconds:.1f} s")
    return cold_sample(cold)


def yaml_scan_scanners() -> list[str]:
    import yaml

    return list(yaml.safe_load((ROOT / "pipelines" / "devops.yaml").read_text())["gates"]["scan"]["scanners"])


# --------------------------------------------------------------------------- the figures


def headline(data: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each with this run's value."""
    figures: list[dict[str, Any]] = []

    def add(fid: str, value: float | None, limit: float, what: str, detail: str, kind: str = "ratio") -> None:
        figures.append({"id": fid, "value": value, "limit": limit, "kind": kind,
                        "meets": value is not None and value <= limit, "what": what, "detail": detail})

    scale = data.get("scale")
    if scale and len(scale["by_n"]) >= 2:
        lo, hi = str(min(scale["services"])), str(max(scale["services"]))
        a, b = scale["by_n"][lo], scale["by_n"][hi]
        add(f"plan_base_n{hi}_over_n{lo}", ratio(b["plan_base"]["seconds"], a["plan_base"]["seconds"]), 2,
            f"devops plan --base HEAD~1, N={hi} / N={lo}, 1 changed",
            f"{b['plan_base']['seconds']} s / {a['plan_base']['seconds']} s")
        if "plan_pinned" in b:
            add(f"plan_base_n{hi}_bases_by_tag_over_pinned", ratio(b["plan_base"]["seconds"], b["plan_pinned"]["seconds"]),
                1.1, f"added cost of resolving base images: devops plan --base HEAD~1 at N={hi}, FROM by tag / by digest "
                "(one registry request per base; the limit is this benchmark's, not the issue's)",
                f"{b['plan_base']['seconds']} s / {b['plan_pinned']['seconds']} s")
        add(f"plan_local_n{hi}_over_n{lo}", ratio(b["plan_local"]["seconds"], a["plan_local"]["seconds"]), 2,
            f"devops plan (no --base: local image lookups), N={hi} / N={lo}",
            f"{b['plan_local']['seconds']} s / {a['plan_local']['seconds']} s")
        add(f"release_one_n{hi}_over_n{lo}", ratio(b["release_one"]["seconds"], a["release_one"]["seconds"]), 1.5,
            f"devops release --env dev, 1 changed, N={hi} / N={lo}",
            f"{b['release_one']['seconds']} s / {a['release_one']['seconds']} s")
        for key, limit, what in (("builds", 1, "builds (docker build processes)"),
                                 ("scans", 1, "Trivy scans (trivy image processes)"),
                                 ("images_pushed", 1, "images pushed (repositories given a manifest)"),
                                 ("docker_pushes", 1, "docker push processes (one per tag)"),
                                 ("gitops_commits", 1, "GitOps commits")):
            add(f"release_one_n{hi}_{key}", b["release_one"][key], limit,
                f"devops release --env dev at N={hi}, 1 changed: {what}", f"N={lo}: {a['release_one'][key]}", "count")
        add(f"release_one_n{hi}_git_processes", b["release_one"]["git_processes"], a["release_one"]["git_processes"],
            f"git processes of a 1-changed release at N={hi} (target: what one service costs, here N={lo}'s)",
            f"N={lo}: {a['release_one']['git_processes']}", "count")
        for n in (lo, hi):
            row = scale["by_n"][n]
            add(f"release_noop_over_one_n{n}", ratio(row["release_noop"]["seconds"], row["release_one"]["seconds"]),
                0.05, f"release with nothing changed / release of 1 service, N={n}",
                f"{row['release_noop']['seconds']} s / {row['release_one']['seconds']} s")
    envs = data.get("environments")
    if envs and len(envs["by_m"]) >= 2:
        lo, hi = str(min(envs["environments"])), str(max(envs["environments"]))
        a, b = envs["by_m"][lo], envs["by_m"][hi]
        for key, what in (("promote", "devops release --env prod promoting 1 service"),
                          ("status", "devops status, every environment")):
            add(f"{key}_m{hi}_over_m{lo}", ratio(b[key]["seconds"], a[key]["seconds"]), 2,
                f"{what}, M={hi} / M={lo} (N={envs['services']})", f"{b[key]['seconds']} s / {a[key]['seconds']} s")
            add(f"{key}_m{hi}_clones_fetches", b[key]["clones_fetches"], 1,
                f"{what} at M={hi}: GitOps clones + fetches", f"M={lo}: {a[key]['clones_fetches']}", "count")
    shop = data.get("shop")
    if shop:
        add("shop_release_noop_over_one", ratio(shop["release_noop"]["seconds"], shop["release_one"]["seconds"]), 0.05,
            f"shop: release with nothing changed / release of one service ({shop['release_one']['changed']})",
            f"{shop['release_noop']['seconds']} s / {shop['release_one']['seconds']} s")
        add("scan_cached_over_first", ratio(shop["scan_cached"]["seconds"], shop["scan_first"]["seconds"]), 0.03,
            "devops scan answered from the cache / first scan (the shop's images)",
            f"{shop['scan_cached']['seconds']} s / {shop['scan_first']['seconds']} s")
        add("build_noop_over_first", ratio(shop["build_noop"]["seconds"], shop["build_first"]["seconds"]), 0.02,
            "devops build with nothing changed / first full build of the shop",
            f"{shop['build_noop']['seconds']} s / {shop['build_first']['seconds']} s")
        add("cold_release_over_plain", ratio(shop["release_cold"]["seconds"], shop["plain_sequential"]["seconds"]),
            0.7, "cold devops release of the shop (a registry that never saw the bases' layers) / plain docker "
            "build + trivy image, one after the other",
            f"{shop['release_cold']['seconds']} s / {shop['plain_sequential']['seconds']} s")
        if "release_cold_bases_in_registry" in shop:
            cold = shop["release_cold_bases_in_registry"]["seconds"]
            add("cold_release_bases_in_registry_over_plain", ratio(cold, shop["plain_sequential"]["seconds"]), 0.7,
                "cold devops release of the shop, its bases in the registry it pushes to (as Docker Hub has "
                "library/node) / plain docker build + trivy image, one after the other",
                f"{cold} s / {shop['plain_sequential']['seconds']} s")
    helps = data.get("help")
    if helps:
        worst = helps["worst"]
        add("help_worst_over_python", worst["ratio"], 3, f"slowest --help ({worst['command']}) / python -c pass",
            f"{worst['seconds']} s / {helps['python_c_pass_s']} s")
        top = helps["commands"].get("devops --help")
        if top:
            add("help_top_over_python", top["ratio"], 3, "devops --help / python -c pass",
                f"{top['seconds']} s / {helps['python_c_pass_s']} s")
    return figures


def print_figures(data: dict[str, Any]) -> None:
    print("\nfigure                                    value    target   met   detail")
    for f in data["figures"]:
        value = "-" if f["value"] is None else f"{f['value']:.4g}"
        print(f"{f['id']:40s} {value:>8s}  <= {f['limit']:<5g} {'yes' if f['meets'] else 'NO ':4s} "
              f"{f['detail']}  ({f['what']})")
    load = data["meta"]["load"]
    print(f"\nload average (1, 5, 15 min): start {load['start']}, end {load['end']}, highest 1-min seen {load['max_1min']}")


def versions() -> dict[str, str]:
    def out(args: list[str]) -> str:
        try:
            return subprocess.run(args, capture_output=True, text=True, timeout=60).stdout.strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"

    return {"python": platform.python_version(), "docker": out(["docker", "version", "--format", "{{.Server.Version}}"]),
            "trivy": out([real_tool("trivy"), "--version"]), "git": out(["git", "--version"]),
            "bench_commit": out(["git", "-C", str(ROOT), "rev-parse", "HEAD"]),
            # The package measured: its checkout, its tree in git, and whether the files differ from it.
            "checkout": str(CHECKOUT),
            "commit": out(["git", "-C", str(CHECKOUT), "rev-parse", "HEAD"]),
            "devops_tree": out(["git", "-C", str(CHECKOUT), "rev-parse", "HEAD:devops"]),
            "devops_dirty": str(bool(subprocess.run(["git", "-C", str(CHECKOUT), "status", "--porcelain", "devops"],
                                                    capture_output=True, text=True).stdout.strip()))}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    env = os.environ.get
    parser.add_argument("--services", default=env("BENCH_SCALE_SERVICES", "10,50,100"), help="N values")
    parser.add_argument("--environments", default=env("BENCH_SCALE_ENVIRONMENTS", "2,20"), help="M values")
    parser.add_argument("--sections", default=env("BENCH_SCALE_SECTIONS", "help,scale,environments,shop"))
    parser.add_argument("--shop-services", default=",".join(SHOP_SERVICES))
    parser.add_argument("--files-per-service", type=int, default=20)
    parser.add_argument("--repeat", type=int, default=3, help="samples per timed command (median reported)")
    parser.add_argument("--help-rounds", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="N 10,20; M 2,4; no shop builds; 2 samples")
    parser.add_argument("--label", default="latest", help="names the JSON and the PNGs")
    parser.add_argument("--out", type=Path, help="JSON file [default: benchmarks/results/<label>.json]")
    parser.add_argument("--plots", type=Path, help="write a PNG per curve into this folder")
    parser.add_argument("--compare", type=Path, help="an earlier run's JSON, drawn dashed in the plots")
    parser.add_argument("--profile", type=Path, help="also profile the no-op paths into this folder")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (printed)")
    parser.add_argument("--checkout", type=Path, default=ROOT,
                        help="measure the devops/ of this checkout (PYTHONPATH) [default: this one]")
    opts = parser.parse_args(argv)
    global CHECKOUT
    CHECKOUT = opts.checkout.resolve()
    if not (CHECKOUT / "devops" / "__main__.py").is_file():
        parser.error(f"--checkout {CHECKOUT}: no devops/__main__.py there")
    if opts.quick:
        opts.services, opts.environments, opts.repeat, opts.help_rounds = "10,20", "2,4", 2, 3
        opts.sections = ",".join(s for s in opts.sections.split(",") if s != "shop")
    sizes_n = sorted({int(x) for x in opts.services.split(",")})
    sizes_m = sorted({int(x) for x in opts.environments.split(",")})
    sections = [s.strip() for s in opts.sections.split(",") if s.strip()]
    out = opts.out or ROOT / "benchmarks" / "results" / f"{opts.label}.json"
    data: dict[str, Any] = {"meta": {"label": opts.label, "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                                     "cpus": os.cpu_count(), "versions": versions(),
                                     "params": {"services": sizes_n, "environments": sizes_m, "sections": sections,
                                                "repeat": opts.repeat, "files_per_service": opts.files_per_service},
                                     "load": {"start": note_load()}}}
    say(f"scale benchmark: sections {sections}, N {sizes_n}, M {sizes_m}")
    if "help" in sections:
        data["help"] = bench_help(opts.help_rounds)
        note_load()
    cleanup: list[Callable[[], None]] = []
    where = Path(tempfile.mkdtemp(prefix="bench-scale-"))
    try:
        if {"scale", "environments", "shop"} & set(sections):
            standins = standin_args()
            with CountingProxy(REGISTRY) as proxy:
                shims = Shims(where / "bin")
                bench = Bench(where, proxy, shims, standins, opts.repeat, opts.files_per_service)
                cleanup.append(lambda: remove_images(namespace_images(bench.namespace)))
                if "scale" in sections:
                    data["scale"] = bench.scale(sizes_n)
                if "environments" in sections:
                    data["environments"] = bench.environments(max(sizes_n), sizes_m)
                if opts.profile:
                    data["profile"] = bench.profile(opts.profile, max(sizes_n), max(sizes_m))
                if "shop" in sections:
                    shop_services = tuple(s for s in opts.shop_services.split(",") if s)
                    data["shop"] = bench_shop(where / "shop", proxy, shims, {k: standins[k] for k in standins},
                                              opts.repeat, shop_services, cleanup)
    finally:
        for step in cleanup:
            step()
        if opts.keep:
            print(f"kept {where}")
        else:
            shutil.rmtree(where, ignore_errors=True)
    data["meta"]["load"].update({"end": note_load(), "max_1min": max(load[0] for load in LOADS)})
    data["figures"] = headline(data)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(data, indent=2) + "\n")
    print_figures(data)
    print(f"\nfigures written to {out}")
    if opts.plots:
        compare = json.loads(opts.compare.read_text()) if opts.compare else None
        label = compare["meta"]["label"] if compare else "before"
        from benchmarks.scale.plots import plot_all

        for png in plot_all(data, opts.plots, compare, label):
            print(f"plot: {png}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Timeline of a cold release of the shop against the plain side (issue 18 item 4).

    python benchmarks/cold_timeline.py --out /tmp/timeline.md [--json /tmp/timeline.json] [--sides plain,release]
    [--sides plain,release-bases-in-registry]   # the bases pushed to the release's registry first

The same two sides as `bench_scale.py --sections shop` (the same helpers: fresh labelled copies
of the stand-in bases, a fresh namespace, fresh Trivy and scan caches, the counting proxy in
front of the registry): plain `docker build` (as a user types it: the classic builder on this
engine) and `trivy image` of the four services one after the other, then a cold
`devops release --env dev`. Every docker, trivy and git process is logged with its start, end
and CPU (benchmarks/scale/timeline.py), and the CPU of dockerd, containerd, the registry, the
build containers and the whole machine is sampled: the Markdown says when each build, scan and
push ran and where the CPU seconds went, so the lower bound of a side on this machine's cores
can be read off.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import bench_scale as bs  # benchmarks/ is sys.path[0] when run as a script

from benchmarks.scale.instruments import CountingProxy, devops_env, load_average
from benchmarks.scale.timeline import SOURCES, CpuSampler, Event, TimelineShims
from tests.gates.trivydb import build_db

KINDS = {("docker", "build"), ("docker", "buildx build"), ("docker", "push"), ("trivy", "image"),
         ("docker", "pull"), ("trivy", "server"), ("docker", "save")}


def run_side(label: str, steps: Callable[[], Any], shims: TimelineShims, proxy: CountingProxy) -> dict[str, Any]:
    shims.reset()
    proxy.reset()
    sampler = CpuSampler().start()
    load = load_average()
    started = time.time()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    result = steps()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    ended = time.time()
    sampler.stop()
    events = shims.events()
    cpu = sampler.between(started, ended)
    # Every process this side started and waited for (devops, docker CLI, trivy, git: their CPU).
    cpu["processes"] = round(after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime, 2)
    cpu["ours"] = round(sum(cpu[k] for k in ("processes", "dockerd", "containerd", "registry", "containers")), 2)
    return {"label": label, "seconds": round(ended - started, 2), "load_start": load, "load_end": load_average(),
            "cpu": cpu, "cores": os.cpu_count(), "result": result,
            "events": [_event(e, started, sampler) for e in events],
            "busy": sampler.busy_cores(started, ended), "registry": proxy.summary()}


def _event(e: Event, origin: float, sampler: CpuSampler) -> dict[str, Any]:
    return {"tool": e.tool, "sub": e.sub, "target": e.target, "start": round(e.start - origin, 2),
            "end": round(e.end - origin, 2), "seconds": round(e.end - e.start, 2), "rc": e.rc,
            "tool_cpu": round(e.cpu, 2), "during": sampler.between(e.start, e.end)}


def plain_side(where: Path, root: Path, services: tuple[str, ...], standins: dict[str, str],
               shims: TimelineShims, cleanup: list[Callable[[], None]]) -> Callable[[], Any]:
    run = uuid.uuid4().hex[:8]
    bases = bs.fresh_bases(standins, run)
    cleanup.append(lambda: bs.remove_images(bs.namespace_images(f"bench-cold-{run}")
                                            + bs.namespace_images(f"bench-plain-{run}")))
    cleanup.append(lambda: bs.remove_images(bs.cold_leftovers(run)))
    trivy_cache = build_db(where / "b" / "trivy", bs.CLEAN)
    scanners = ",".join(bs.yaml_scan_scanners())
    build_args = [arg for k, v in bases.items() for arg in ("--build-arg", f"{k}={v}")]
    env = shims.env(dict(os.environ))
    env.pop("DOCKER_BUILDKIT", None)  # what `docker build` does when a user types it here

    PLAIN_IMAGES[:] = [f"bench-plain-{run}/{service}" for service in services]

    def steps() -> None:
        for service in services:
            bs.timed(["docker", "build", "-q", "-t", f"bench-plain-{run}/{service}", *build_args,
                      str(root / "services" / service)], env=env)
        for service in services:
            bs.timed(["trivy", "image", "--quiet", "--cache-dir", str(trivy_cache), "--skip-db-update",
                      "--offline-scan", "--scanners", scanners, f"bench-plain-{run}/{service}"], env=env)
    return steps


PLAIN_IMAGES: list[str] = []  # what the plain side built, for the push side


def push_side(shims: TimelineShims, proxy: CountingProxy, cleanup: list[Callable[[], None]]) -> Callable[[], Any]:
    """`docker push` of the plain side's images into a fresh namespace, one after the other: what
    pushing costs on its own (the compression of every layer the registry cannot mount)."""
    if not PLAIN_IMAGES:
        raise SystemExit("the push side needs the plain side before it")
    namespace = f"benchpush{uuid.uuid4().hex[:8]}"
    targets = [f"{proxy.address}/{namespace}/{image.rsplit('/', 1)[1]}:cold" for image in PLAIN_IMAGES]
    cleanup.append(lambda: bs.remove_images(targets))
    env = shims.env(dict(os.environ))

    def steps() -> None:
        for image, target in zip(PLAIN_IMAGES, targets, strict=True):
            bs.timed(["docker", "tag", image, target], env=env)
            bs.timed(["docker", "push", target], env=env)
    return steps


def release_side(where: Path, services: tuple[str, ...], standins: dict[str, str], shims: TimelineShims,
                 proxy: CountingProxy, checkout: Path, cleanup: list[Callable[[], None]],
                 bases_in_registry: bool = False) -> Callable[[], Any]:
    run = uuid.uuid4().hex[:8]
    namespace = f"benchshop{run}"
    # bases_in_registry: the bases are pushed to the release's registry first (before the clock),
    # as a user's come from one: the daemon mounts their layers (bench_scale.py::fresh_bases).
    bases = bs.fresh_bases(standins, run, registry=proxy.address if bases_in_registry else None)
    cleanup.append(lambda: bs.remove_images(bs.namespace_images(f"bench-cold-{run}") + bs.namespace_images(namespace)))
    cleanup.append(lambda: bs.remove_images(bs.cold_leftovers(run)))
    root = bs.release_project(where / "c", namespace, proxy.address, services)
    env = {**devops_env(None, checkout=checkout),
           "DEVOPS_BUILD_ARGS": " ".join(f"{k}={v}" for k, v in bases.items())}
    env = shims.env(env)

    def steps() -> Any:
        import subprocess

        done = subprocess.run([sys.executable, "-m", "devops", "--source-root", str(where), "--json", "release",
                               "--env", "dev"], cwd=root, env=env, capture_output=True, text=True, timeout=3600)
        if done.returncode != 0:
            raise SystemExit(f"release exited {done.returncode}:\n{done.stderr[-3000:]}")
        (where / "release.stderr").write_text(done.stderr)
        return {"services": [(s["service"], s["status"]) for s in json.loads(done.stdout)["services"]]}
    return steps


def markdown(sides: list[dict[str, Any]]) -> str:
    lines = ["| side | wall s | dockerd | containers | registry | containerd | processes | ours (CPU s) "
             "| ours / cores (s) | machine busy | load 1 min |",
             "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"]
    for side in sides:
        cpu = side["cpu"]
        lines.append(f"| {side['label']} | {side['seconds']} | {cpu['dockerd']} | {cpu['containers']} | "
                     f"{cpu['registry']} | {cpu['containerd']} | {cpu['processes']} | {cpu['ours']} | "
                     f"{cpu['ours'] / side['cores']:.1f} | {cpu['machine']} | "
                     f"{side['load_start'][0]} -> {side['load_end'][0]} |")
    lines.append("")
    for side in sides:
        cpu = side["cpu"]
        lines += [f"### {side['label']}: {side['seconds']} s wall "
                  f"(load {side['load_start'][0]} -> {side['load_end'][0]})", "",
                  "CPU seconds over the whole side: " + ", ".join(f"{k} {cpu[k]}" for k in (*SOURCES, "processes"))
                  + f"; ours (all but machine) {cpu['ours']}, i.e. at least {cpu['ours'] / side['cores']:.1f} s "
                  f"on {side['cores']} cores; machine busy / wall = {cpu['machine'] / side['seconds']:.2f} cores", "",
                  "| step | target | start | end | s | tool CPU | dockerd | containers | registry | machine |",
                  "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
        for e in side["events"]:
            if (e["tool"], e["sub"]) not in KINDS and e["seconds"] < 0.5:
                continue
            d = e["during"]
            target = e["target"].rsplit("/", 1)[-1][:40]
            lines.append(f"| {e['tool']} {e['sub']} | {target} | {e['start']} | {e['end']} | {e['seconds']} | "
                         f"{e['tool_cpu']} | {d['dockerd']} | {d['containers']} | {d['registry']} | {d['machine']} |")
        small = [e for e in side["events"] if (e["tool"], e["sub"]) not in KINDS and e["seconds"] < 0.5]
        if small:
            lines.append(f"\n{len(small)} other short processes (< 0.5 s each, {sum(e['seconds'] for e in small):.1f} s "
                         f"in all): " + ", ".join(sorted({f'{e["tool"]} {e["sub"]}' for e in small})))
        lines.append("\nBusy cores per second: " + " ".join(f"{b:.1f}" for _t, b in side["busy"]))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sides", default="plain,release",
                        help="plain, push (the plain images pushed, after plain), release, release@CHECKOUT "
                             "(another checkout's devops/), in this order")
    parser.add_argument("--services", default=",".join(bs.SHOP_SERVICES))
    parser.add_argument("--out", type=Path, required=True, help="Markdown file")
    parser.add_argument("--json", type=Path, help="the raw events and samples")
    parser.add_argument("--checkout", type=Path, default=bs.ROOT)
    opts = parser.parse_args(argv)
    services = tuple(s for s in opts.services.split(",") if s)
    sides = [s for s in opts.sides.split(",") if s]
    cleanup: list[Callable[[], None]] = []
    where = Path(tempfile.mkdtemp(prefix="cold-timeline-"))
    out = []
    try:
        standins = bs.standin_args()
        shims = TimelineShims(where / "bin")
        root = None
        for side in sides:
            # A proxy (a registry name) per side: dockerd remembers which layers it pushed where and
            # mounts them from there, so a side after another one's pushes would not be cold.
            with CountingProxy(bs.REGISTRY) as proxy:
                if side == "plain":
                    if root is None:
                        root, _ = bs.shop_project(where / "a", "unused", proxy.address, services)
                    steps = plain_side(where, root, services, standins, shims, cleanup)
                elif side == "push":
                    steps = push_side(shims, proxy, cleanup)
                else:  # "release", or "release@CHECKOUT" to measure another checkout's devops/ in the same run;
                    # "release-bases-in-registry[@CHECKOUT]": its bases pushed to its registry first
                    kind, _, at = side.partition("@")
                    checkout = Path(at) if at else opts.checkout
                    steps = release_side(where / f"{len(out)}-{side.replace('/', '_')}", services, standins, shims,
                                         proxy, checkout.resolve(), cleanup,
                                         bases_in_registry=kind == "release-bases-in-registry")
                bs.say(f"timeline: {side}")
                out.append(run_side(side, steps, shims, proxy))
                bs.say(f"timeline: {side} {out[-1]['seconds']} s, CPU {out[-1]['cpu']}")
    finally:
        for step in cleanup:
            step()
        shutil.rmtree(where, ignore_errors=True)
    opts.out.write_text(markdown(out))
    if opts.json:
        opts.json.write_text(json.dumps(out, indent=1) + "\n")
    print(markdown(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""When each step of a command runs, and what CPU it costs (issue 18 item 4: where the seconds of
a cold release go on 2 cores).

- `TimelineShims`: the counting shims of `instruments.Shims`, plus one line per process with its
  start and end (epoch seconds) and the CPU seconds of the tool and its children (bash `times`).
  The docker CLI's own CPU is small: what a build or a push costs is spent in dockerd, in the
  build containers and in the registry, which `CpuSampler` reads.
- `CpuSampler`: a thread that reads, every `period` seconds, the machine's busy CPU (/proc/stat),
  dockerd's, containerd's and the registry's (/proc/PID/stat) and the build containers'
  (cgroup v1 `cpuacct` of Docker's parent group, which keeps the usage of removed containers).
- `phase_cpu`: the CPU of each source between two moments, from the samples.

Only the benchmarks use it; nothing in devops/ knows about it.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.scale.instruments import TOOLS, Shims, real_tool, subcommand

TICK = os.sysconf("SC_CLK_TCK")
DOCKER_CGROUP = Path("/sys/fs/cgroup/cpuacct/docker/cpuacct.usage")


class TimelineShims(Shims):
    """Shims that also log `start end rc user sys argv` per process (`<tool>.timeline`)."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.timelines = {name: folder / f"{name}.timeline" for name in TOOLS}
        for name in TOOLS:
            shim = folder / name
            # bash, not exec: the shim waits for the tool to read its children's CPU (`times`).
            shim.write_text(
                "#!/bin/bash\n"
                's=$EPOCHREALTIME\n'
                f'"{real_tool(name)}" "$@"\n'
                "rc=$?\n"
                'e=$EPOCHREALTIME\n'
                # `times` in the shell itself (a pipe or $(...) would run it in a subshell, whose
                # children used nothing): its second line is the children's user and system time.
                f'times > "{folder}/.times.$$"\n'
                f'c=$(tail -n 1 "{folder}/.times.$$"); rm -f "{folder}/.times.$$"\n'
                f'(IFS="$(printf \'\\037\')"; printf \'%s\\n\' "$*") >> "{self.logs[name]}"\n'
                f'(IFS="$(printf \'\\037\')"; printf \'%s\\t%s\\t%s\\t%s\\t%s\\n\' "$s" "$e" "$rc" "$c" "$*") '
                f'>> "{self.timelines[name]}"\n'
                "exit $rc\n")
            shim.chmod(0o755)
        self.reset()

    def reset(self) -> None:
        super().reset()
        for log in getattr(self, "timelines", {}).values():
            log.write_text("")

    def events(self) -> list[Event]:
        found = []
        for tool, log in self.timelines.items():
            for line in log.read_text().splitlines():
                start, end, rc, cpu, argv = line.split("\t", 4)
                user, system = (_seconds(part) for part in cpu.split())
                args = argv.split("\x1f")
                found.append(Event(tool, subcommand(args, tool), args, float(start), float(end), int(rc),
                                   user + system))
        return sorted(found, key=lambda e: e.start)


def _seconds(text: str) -> float:
    """`1m2.345s` -> 62.345 (bash `times`)."""
    minutes, _, rest = text.partition("m")
    return int(minutes) * 60 + float(rest.rstrip("s"))


@dataclass(frozen=True)
class Event:
    tool: str
    sub: str
    args: list[str]
    start: float
    end: float
    rc: int
    cpu: float  # the tool's and its children's user + system seconds

    @property
    def target(self) -> str:
        """The image or path a build, scan, push or inspect is about (its last argument)."""
        if self.sub in ("build", "buildx build"):
            tag = next((a for i, a in enumerate(self.args) if i and self.args[i - 1] in ("--tag", "-t")), "")
            return tag or self.args[-1]
        return self.args[-1] if self.args else ""


def _pid(name: str) -> int | None:
    """The oldest process of that name (tests start registries of their own beside the shared one)."""
    found = subprocess.run(["pgrep", "-o", "-x", name], capture_output=True, text=True).stdout.split()
    return int(found[0]) if found else None


def _proc_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return sum(int(x) for x in fields[11:15]) / TICK  # utime, stime and those of reaped children


def _machine() -> tuple[float, float]:
    """(busy, total) CPU seconds of the machine since boot."""
    parts = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = parts[3] + parts[4]
    total = sum(parts[:8])
    return (total - idle) / TICK, total / TICK


def _containers() -> dict[str, float]:
    """CPU seconds of Docker's parent cgroup (which keeps the usage of removed containers: the
    build steps' containers) as "containers", and of each container there now as "c:<id>"."""
    found: dict[str, float] = {}
    try:
        found["containers"] = int(DOCKER_CGROUP.read_text()) / 1e9
        for child in DOCKER_CGROUP.parent.iterdir():
            if child.is_dir():
                try:
                    found[f"c:{child.name}"] = int((child / "cpuacct.usage").read_text()) / 1e9
                except (OSError, ValueError):
                    pass  # it ended between the listing and the read
    except (OSError, ValueError):
        found.setdefault("containers", 0.0)
    return found


SOURCES = ("machine", "dockerd", "containerd", "registry", "containers")


@dataclass
class CpuSampler:
    """Samples CPU counters in a thread between `start()` and `stop()`."""

    period: float = 0.2
    samples: list[tuple[float, dict[str, float]]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._pids = {"dockerd": _pid("dockerd"), "containerd": _pid("containerd"),
                      "registry": _pid("docker-registry") or _pid("registry")}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._lasting: set[str] = set()  # containers still running at the end: not ours (services)

    def read(self) -> dict[str, float]:
        busy, _total = _machine()
        return {"machine": busy, **{k: _proc_cpu(p) for k, p in self._pids.items()}, **_containers()}

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self.read()))
            self._stop.wait(self.period)

    def start(self) -> CpuSampler:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
        self.samples.append((time.time(), self.read()))
        # A build step's container is removed when the step ends; one still running now is a
        # service someone started (other sessions' demos): its CPU is not the command's.
        self._lasting = {k for k in self.samples[-1][1] if k.startswith("c:")}

    def at(self, moment: float) -> dict[str, float]:
        """The counters at `moment` (the last sample at or before it; the first one before any)."""
        best = self.samples[0][1]
        for when, values in self.samples:
            if when > moment:
                break
            best = values
        return best

    def between(self, start: float, end: float) -> dict[str, float]:
        a, b = self.at(start), self.at(end)
        out = {k: round(b[k] - a[k], 2) for k in SOURCES}
        lasting = sum(b.get(k, 0.0) - a.get(k, 0.0) for k in self._lasting)
        out["containers"] = round(out["containers"] - lasting, 2)
        return out

    def busy_cores(self, start: float, end: float, step: float = 1.0) -> list[tuple[float, float]]:
        """(seconds since start, busy cores of the machine) per `step` seconds."""
        out = []
        t = start
        while t < end:
            nxt = min(end, t + step)
            used = self.between(t, nxt)["machine"]
            out.append((round(t - start, 1), round(used / max(nxt - t, 1e-6), 2)))
            t = nxt
        return out

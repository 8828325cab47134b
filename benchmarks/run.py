"""Run every contender at every N, print the table and write it into BENCHMARKS.md.

    .venv/bin/python -m benchmarks.run                # the full run (a few minutes)
    .venv/bin/python -m benchmarks.run --sizes 1 10 --delay 0.01 --no-skopeo --output -

The table goes between the result markers of the output file, so the hand-written discussion
around it survives a re-run. Timings live here and in BENCHMARKS.md, never in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import math
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks import contenders
from benchmarks.contenders import Contender
from benchmarks.fixtures import Environment, environment
from benchmarks.proxy import DEFAULT_DELAY, ProxyStats
from image_digest.resolver import DEFAULT_MAX_WORKERS

BEGIN = "<!-- results:begin (written by `python -m benchmarks.run`) -->"
END = "<!-- results:end -->"
OURS = "resolve_many"
TIME_TARGET = 1.3
SKOPEO_TARGET = 20.0
_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Config:
    """What to run. `sample` caps how many references a fixed-cost-per-reference contender
    (skopeo) runs per round; above it the time and requests are extrapolated per reference.
    Slow contenders run `slow_rounds` rounds, and once when N exceeds `sample`."""

    sizes: tuple[int, ...] = (1, 10, 100, 500)
    delay: float = DEFAULT_DELAY
    repositories: int = 20
    rounds: int = 5
    slow_rounds: int = 3
    sample: int = 100
    skopeo: bool = True
    oras: bool = True
    bare: bool = True
    output: Path | None = Path("BENCHMARKS.md")
    proxy_process: bool = True
    headline: int = 100
    command: str = "python -m benchmarks.run"


@dataclass
class Row:
    """One contender at one N. Times in seconds, for all N references (extrapolated when
    `measured` < `n`); `kinds` and `requests` as counted at the proxies."""

    n: int
    name: str
    wall: float
    walls: list[float]
    measured: int
    requests: float
    kinds: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    client_cpu: float = 0.0
    registry_cpu: float = 0.0
    note: str = ""

    @property
    def scale(self) -> float:
        return self.n / self.measured if self.measured else 1.0


@dataclass
class Report:
    config: Config
    rows: list[Row]
    machine: dict[str, str]
    skipped: dict[str, str]
    seconds: float
    undelayed: list[Row] = field(default_factory=list)

    def row(self, n: int, name: str) -> Row | None:
        return next((r for r in self.rows if r.n == n and r.name == name), None)

    def targets(self) -> list[tuple[str, bool | None, str]]:
        """(target, met (None: not measured), evidence) for each of issue 5's targets."""
        results: list[tuple[str, bool | None, str]] = []
        for n in self.config.sizes:
            ours = self.row(n, OURS)
            floor = self.row(n, "floor")
            if ours is None or floor is None:
                continue
            extra = set(ours.kinds) - {"HEAD manifest", "ping", "token"}
            requests_ok = (
                ours.kinds["HEAD manifest"] == n
                and ours.kinds["ping"] <= 1
                and ours.kinds["token"] <= 1
                and not extra
            )
            results.append(
                (
                    f"N={n}: requests = {n} HEAD + <=1 ping + <=1 token",
                    requests_ok,
                    _kinds_text(ours.kinds),
                )
            )
            ratio = ours.wall / floor.wall
            results.append(
                (
                    f"N={n}: wall <= {TIME_TARGET} x floor",
                    ratio <= TIME_TARGET,
                    f"{_ms(ours.wall)} / {_ms(floor.wall)} = {ratio:.3f} x floor",
                )
            )
        ours = self.row(self.config.headline, OURS)
        skopeo = self.row(self.config.headline, "skopeo")
        if ours is not None:
            if skopeo is None:
                results.append(
                    (f"N={self.config.headline}: >= 20x faster than skopeo", None, "not run")
                )
            else:
                speedup = skopeo.wall / ours.wall
                results.append(
                    (
                        f"N={self.config.headline}: >= {SKOPEO_TARGET:g}x faster than skopeo "
                        "per reference",
                        speedup >= SKOPEO_TARGET,
                        f"{_ms(skopeo.wall / skopeo.n)} vs {_ms(ours.wall / ours.n)} per "
                        f"reference = {speedup:.0f}x",
                    )
                )
        return results


def run_benchmark(config: Config) -> Report:
    """Set up the registry world, run every contender at every N, write the report."""
    started = time.perf_counter()
    machine = _machine()
    rows: list[Row] = []
    skipped: dict[str, str] = {}
    with (
        tempfile.TemporaryDirectory(prefix="image-digest-bench-") as tmp,
        _isolated_credentials(Path(tmp)),
        environment(
            max(config.sizes),
            repositories=config.repositories,
            delay=config.delay,
            proxy_process=config.proxy_process,
        ) as env,
    ):
        lineup = _lineup(config, Path(tmp), skipped)
        _warm_up(env, lineup)
        for n in config.sizes:
            rows += _measure_all(env, lineup, n, config)
            rows.append(_floor(n, config.delay))
        # The same batches without the added delay: what this machine's registry, proxies and
        # client cost by themselves, which the computed floor leaves out.
        env.set_delay(0.0)
        fast = [c for c in lineup if not c.slow]
        undelayed = [row for n in config.sizes for row in _measure_all(env, fast, n, config)]
    machine["load average after"] = _load()
    report = Report(config, rows, machine, skipped, time.perf_counter() - started, undelayed)
    if config.output is not None:
        write_markdown(report, config.output, config.command)
    return report


def _lineup(config: Config, tmp: Path, skipped: dict[str, str]) -> list[Contender]:
    lineup = [
        Contender(OURS, contenders.ours(), note=f"default pool ({DEFAULT_MAX_WORKERS})"),
        Contender(f"{OURS} pool=1", contenders.ours(1), slow=True, note="one lookup at a time"),
    ]
    if config.bare:
        lineup.append(
            Contender("bare http.client", contenders.bare_http(), note="measured floor: no library")
        )
    if config.skopeo:
        if shutil.which("skopeo") is None:
            skipped["skopeo"] = "skopeo is not installed (apt-get install skopeo)"
        else:
            lineup.append(
                Contender(
                    "skopeo",
                    contenders.skopeo(tmp),
                    sampled=True,
                    slow=True,
                    note="`skopeo inspect --raw`, one process per reference",
                )
            )
    if config.oras:
        why_not = contenders.oras_available()
        if why_not is not None:
            skipped["oras"] = why_not
        else:
            lineup.append(
                Contender(
                    "oras-py",
                    contenders.oras_sdk(),
                    slow=True,
                    note="Registry.do_request HEAD, one client per repository, sequential",
                )
            )
    return lineup


def _warm_up(env: Environment, lineup: Sequence[Contender]) -> None:
    """One unmeasured call each: page cache, first-import and first-exec costs."""
    refs = env.refs(min(2, len(env.references)))
    for contender in lineup:
        contender.resolve(refs)
    env.reset()


@dataclass
class _Sample:
    """One cold call of one contender."""

    wall: float
    stats: ProxyStats
    client_cpu: float
    registry_cpu: float


def _measure_all(
    env: Environment, lineup: Sequence[Contender], n: int, config: Config
) -> list[Row]:
    """Every contender at `n`. The fast ones take turns round by round, so a load spike from
    elsewhere on the machine hits them alike rather than one contender's block of rounds."""
    samples: dict[str, list[_Sample]] = {c.name: [] for c in lineup}
    fast = [c for c in lineup if not c.slow]
    for _ in range(config.rounds):
        for contender in fast:
            samples[contender.name].append(_run_once(env, contender, env.refs(n)))
    for contender in (c for c in lineup if c.slow):
        measured = min(n, config.sample) if contender.sampled else n
        rounds = 1 if n > config.sample else config.slow_rounds
        for _ in range(rounds):
            samples[contender.name].append(_run_once(env, contender, env.refs(measured)))
    return [_row(contender, n, samples[contender.name], config) for contender in lineup]


def _run_once(env: Environment, contender: Contender, refs: list[str]) -> _Sample:
    env.reset()
    registry_pid = _registry_pid(env)
    cpu_before = _client_cpu()
    registry_before = _process_cpu(registry_pid)
    start = time.perf_counter()
    digests = contender.resolve(refs)
    wall = time.perf_counter() - start
    client_cpu = _client_cpu() - cpu_before
    registry_cpu = _process_cpu(registry_pid) - registry_before
    wrong = [ref for ref in refs if digests.get(ref) != env.digests[ref]]
    if wrong:
        raise AssertionError(f"{contender.name} got wrong digests for {wrong[:3]}")
    return _Sample(wall, env.stats(), client_cpu, registry_cpu)


def _row(contender: Contender, n: int, samples: list[_Sample], config: Config) -> Row:
    """Median wall time; requests of the last round; CPU averaged; all scaled to `n`."""
    measured = min(n, config.sample) if contender.sampled else n
    scale = n / measured
    note = contender.note
    if measured < n:
        note += f"; ran {measured} of {n} references, time and requests scaled x{scale:g}"
    if len(samples) == 1:
        note += "; one round"
    last = samples[-1].stats
    return Row(
        n=n,
        name=contender.name,
        wall=statistics.median(s.wall for s in samples) * scale,
        walls=[s.wall for s in samples],
        measured=measured,
        requests=last.total * scale,
        kinds=Counter({kind: round(count * scale) for kind, count in last.kinds().items()}),
        connections=last.connections,
        client_cpu=statistics.mean(s.client_cpu for s in samples) * scale,
        registry_cpu=statistics.mean(s.registry_cpu for s in samples) * scale,
        note=note.lstrip("; "),
    )


def _floor(n: int, delay: float, pool: int = DEFAULT_MAX_WORKERS) -> Row:
    """ceil(N / pool) round trips of HEADs, plus one ping and one token round trip."""
    wall = (math.ceil(n / pool) + 2) * delay
    return Row(
        n=n,
        name="floor",
        wall=wall,
        walls=[wall],
        measured=n,
        requests=n + 2,
        kinds=Counter({"HEAD manifest": n, "ping": 1, "token": 1}),
        note=f"(ceil(N/{pool}) + 2) x {delay * 1000:g} ms, computed",
    )


# -- measuring CPU ------------------------------------------------------------------------------


def _client_cpu() -> float:
    """This process plus its finished children (skopeo), in CPU seconds."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def _registry_pid(env: Environment) -> int | None:
    process = getattr(env.registry, "_process", None)
    return process.pid if process is not None else None


def _process_cpu(pid: int | None) -> float:
    if pid is None:
        return 0.0
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / _TICKS


# -- environment --------------------------------------------------------------------------------


@contextlib.contextmanager
def _isolated_credentials(tmp: Path) -> Iterator[None]:
    """No contender reads the user's docker or skopeo logins; restored afterwards."""
    auth_file = tmp / "auth.json"
    auth_file.write_text('{"auths": {}}')
    saved = {key: os.environ.get(key) for key in ("DOCKER_CONFIG", "REGISTRY_AUTH_FILE")}
    os.environ["DOCKER_CONFIG"] = str(tmp)
    os.environ["REGISTRY_AUTH_FILE"] = str(auth_file)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.2f} {five:.2f} {fifteen:.2f}"


def _version(*command: str) -> str:
    try:
        result = subprocess.run(command, capture_output=True, text=True, timeout=10, check=False)
    except OSError:
        return "not installed"
    lines = (result.stdout or result.stderr).strip().splitlines()
    return lines[0] if result.returncode == 0 and lines else "?"


def _machine() -> dict[str, str]:
    cpu = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": f"{os.cpu_count()} x {cpu}",
        "os": platform.platform(),
        "python": platform.python_version(),
        "requests": _package_version("requests"),
        "docker-registry": _version("docker-registry", "--version"),
        "skopeo": _version("skopeo", "--version"),
        "oras-py": _package_version("oras"),
        "load average before": _load(),
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def _package_version(name: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return "not installed"


# -- output -------------------------------------------------------------------------------------


def _ms(seconds: float) -> str:
    if seconds >= 10:
        return f"{seconds:.1f} s"
    return f"{seconds * 1000:.0f} ms" if seconds >= 0.01 else f"{seconds * 1000:.1f} ms"


def _kinds_text(kinds: Counter[str]) -> str:
    order = ["HEAD manifest", "GET manifest", "ping", "token"]
    names = order + sorted(set(kinds) - set(order))
    return ", ".join(f"{kinds[k]:g} {k}" for k in names if kinds.get(k))


def table(report: Report, rows: list[Row] | None = None) -> str:
    """The results (or `rows`) as a Markdown table, one block per N."""
    rows = report.rows if rows is None else rows
    lines = [
        "| N | contender | wall (median) | per ref | x ours | requests at proxy | "
        "connections | client CPU | registry CPU | note |",
        "| ---: | --- | ---: | ---: | ---: | --- | ---: | ---: | ---: | --- |",
    ]
    for n in report.config.sizes:
        ours = next((r for r in rows if r.n == n and r.name == OURS), None)
        for row in (r for r in rows if r.n == n):
            ratio = f"{row.wall / ours.wall:.2f}" if ours is not None else ""
            requests = f"{row.requests:.0f}: {_kinds_text(row.kinds)}"
            if row.name == "floor":
                cpu = conns = registry = ""
            else:
                cpu, registry = _ms(row.client_cpu), _ms(row.registry_cpu)
                conns = f"{row.connections * row.scale:.0f}"
            lines.append(
                f"| {n} | {row.name} | {_ms(row.wall)} | {_ms(row.wall / n)} | {ratio} | "
                f"{requests} | {conns} | {cpu} | {registry} | {row.note} |"
            )
    return "\n".join(lines)


def results_section(report: Report, command: str) -> str:
    config = report.config
    machine = "\n".join(f"- {key}: {value}" for key, value in report.machine.items())
    targets = "\n".join(
        f"| {name} | {'met' if met else 'not measured' if met is None else '**missed**'} | "
        f"{evidence} |"
        for name, met, evidence in report.targets()
    )
    skipped = "".join(f"\n- {name} not run: {why}" for name, why in report.skipped.items())
    return f"""{BEGIN}
Command: `{command}` (took {report.seconds:.0f} s). Delay {config.delay * 1000:g} ms per
request at the proxies; {config.repositories} repositories; wall times are the median of
{config.rounds} rounds ({config.slow_rounds} for the slow ones: pool=1, skopeo, oras-py; 1 when
N > {config.sample}); every round starts cold (new client: ping, token and connections paid
again). "x ours" is wall time relative to `resolve_many` with the default pool at the same N.
CPU columns are per round: "client" is the benchmark process plus its finished children
(the skopeo processes), "registry" the docker-registry process.

{table(report)}

The same batches with the proxies' delay set to 0 ms: what the local registry, the proxies
and the client cost by themselves on this machine, which the computed floor leaves out.

{table(report, report.undelayed)}

| target | status | measured |
| --- | --- | --- |
{targets}

Machine:
{machine}{skipped}
{END}"""


def write_markdown(report: Report, path: Path, command: str) -> None:
    """Replace the results section of `path` (create the file if needed)."""
    section = results_section(report, command)
    text = path.read_text() if path.exists() else "# Benchmarks\n\n" + BEGIN + "\n" + END + "\n"
    if BEGIN in text and END in text:
        head, rest = text.split(BEGIN, 1)
        tail = rest.split(END, 1)[1]
        text = head + section + tail
    else:
        text = text.rstrip() + "\n\n" + section + "\n"
    path.write_text(text)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(Config.sizes))
    parser.add_argument("--delay", type=float, default=DEFAULT_DELAY, help="seconds per request")
    parser.add_argument("--rounds", type=int, default=Config.rounds)
    parser.add_argument("--slow-rounds", type=int, default=Config.slow_rounds)
    parser.add_argument("--sample", type=int, default=Config.sample)
    parser.add_argument("--no-skopeo", action="store_true")
    parser.add_argument("--no-oras", action="store_true")
    parser.add_argument("--no-bare", action="store_true")
    parser.add_argument(
        "--in-process-proxy", action="store_true", help="proxies as threads of this process"
    )
    parser.add_argument("--output", default="BENCHMARKS.md", help="file to update, or -")
    args = parser.parse_args(argv)
    config = Config(
        sizes=tuple(args.sizes),
        delay=args.delay,
        rounds=args.rounds,
        slow_rounds=args.slow_rounds,
        sample=args.sample,
        skopeo=not args.no_skopeo,
        oras=not args.no_oras,
        bare=not args.no_bare,
        output=None if args.output == "-" else Path(args.output),
        proxy_process=not args.in_process_proxy,
        headline=100 if 100 in args.sizes else max(args.sizes),
        command=" ".join([".venv/bin/python -m benchmarks.run", *(argv or sys.argv[1:])]),
    )
    report = run_benchmark(config)
    print(table(report))
    print()
    for name, met, evidence in report.targets():
        status = "met" if met else "not measured" if met is None else "MISSED"
        print(f"{status:>12}  {name}: {evidence}")
    if config.output is not None:
        print(f"\nwrote {config.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

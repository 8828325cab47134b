"""The benchmark harness runs end to end at a tiny size: it proves the set-up, the proxies'
counting and the report, by request counts only (the times belong in BENCHMARKS.md)."""

from __future__ import annotations

import shutil
from collections import Counter

from benchmarks.run import BEGIN, END, OURS, Config, run_benchmark
from tests.support.registry import require_tools


def test_benchmark_runs_and_counts_requests(tmp_path):
    require_tools()
    output = tmp_path / "BENCHMARKS.md"
    output.write_text(f"# Benchmarks\nintro kept\n{BEGIN}\nstale results\n{END}\ndiscussion kept\n")
    config = Config(
        sizes=(3,),
        delay=0.001,
        repositories=2,
        rounds=1,
        slow_rounds=1,
        sample=1,
        skopeo=shutil.which("skopeo") is not None,
        output=output,
        headline=3,
    )

    report = run_benchmark(config)

    once = Counter({"HEAD manifest": 3, "ping": 1, "token": 1})
    ours = report.row(3, OURS)
    assert ours is not None and ours.kinds == once and ours.requests == 5
    pooled_one = report.row(3, f"{OURS} pool=1")
    assert pooled_one is not None and pooled_one.kinds == once
    assert pooled_one.connections == 2  # one to the registry, one to the token server
    bare = report.row(3, "bare http.client")
    assert bare is not None and bare.kinds == once
    floor = report.row(3, "floor")
    assert floor is not None and floor.requests == 5
    if config.skopeo:
        skopeo = report.row(3, "skopeo")
        assert skopeo is not None and skopeo.measured == 1
        # Per reference: a ping, a token and a GET (plus a TLS try), scaled from 1 to 3.
        assert skopeo.kinds["GET manifest"] == skopeo.kinds["token"] == skopeo.kinds["ping"] == 3
        assert skopeo.requests >= 9
    if "oras" not in report.skipped:
        oras = report.row(3, "oras-py")
        assert oras is not None and oras.kinds["HEAD manifest"] >= 3
    requests_target = [t for t in report.targets() if "requests" in t[0]]
    assert [met for _, met, _ in requests_target] == [True]

    text = output.read_text()
    assert "intro kept" in text and "discussion kept" in text and "stale results" not in text
    assert text.count(BEGIN) == text.count(END) == 1
    assert text.count("| 3 | resolve_many |") == 2  # with the delay, and without

"""A seconds-long run of the benchmark suite, so it never rots (the figures are for people)."""

import json

from bench.__main__ import main


def test_the_suite_runs_end_to_end_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    main(["--quick", "--json", str(out)])
    report = capsys.readouterr().out
    results = json.loads(out.read_text())
    assert set(results) >= {"offline", "mixing", "realtime", "nesting", "midi", "memory", "allocation"}
    assert results["offline"]["mixtree"] > 0 and results["mixing"]["mixtree"] > 0
    for peer in ("pedalboard", "dawdreamer", "sox -m"):
        assert peer in results["offline"] or peer in results["mixing"]
    assert all(0 < r["mean"] <= r["max"] for r in results["realtime"].values())
    assert results["memory"]["model"] > 0
    assert "Real-time DSP load" in report and "peer ÷ mixtree" in report

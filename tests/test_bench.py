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


def test_the_block_profile_times_every_effect_kernel_and_the_mixer():
    from bench.profile import profile

    parts = profile(tracks=4, effects=4, block=256, seconds=0.2, repeat=1)
    kernels = {name for name in parts if name.startswith("effect: ")}
    assert kernels == {"effect: Filter", "effect: Compressor", "effect: Gain"}
    assert all(parts[name] > 0 for name in (*kernels, "clip reading", "faders, sends, lanes", "mixing + meters"))
    # the interpreter's share is what the plain run took beyond the timed calls (noisy: any sign)
    assert parts["total"] > 0 and "Python" in parts


def test_the_linear_fit_finds_the_slope_and_the_point_off_the_line():
    from bench.linear import fit

    slope, intercept, deviation = fit((8, 16, 32, 64), [10.0, 18.0, 34.0, 66.0])
    assert (round(slope, 9), round(intercept, 9)) == (1.0, 2.0)
    assert max(abs(d) for d in deviation) < 1e-9
    *_, bent = fit((8, 16, 32, 64), [10.0, 18.0, 40.0, 66.0])
    assert max(range(4), key=lambda k: abs(bent[k])) == 2


def test_the_startup_timer_keeps_the_best_and_the_median_and_takes_a_runs_own_timing():
    from bench.startup import best_of

    took = iter([0.3, 0.1, 0.2])
    assert best_of(lambda: next(took), 3) == (0.1, 0.2)

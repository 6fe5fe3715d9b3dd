"""The exchange benchmark runs end to end (the figures are for people)."""

from bench.exchange import main


def test_the_exchange_benchmark_runs_quickly_and_loses_nothing(capsys):
    results = main(["--quick"])
    assert all(
        results[f"{name}_s"] > 0 for name in ("dawproject_export", "dawproject_import", "otio_import", "rpp_import")
    )
    assert "Exchange, 16 tracks, 100 clips" in capsys.readouterr().out

"""The exchange benchmark runs end to end (the figures are for people)."""

from bench.exchange import main


def test_the_exchange_benchmark_runs_quickly_and_loses_nothing(capsys):
    results = main(["--quick"])
    assert results["export_s"] > 0 and results["import_s"] > 0 and results["import_peak_mb"] > 0
    assert "DAWproject, 16 tracks, 100 clips" in capsys.readouterr().out

"""The soak's own checks, on a short run (the long runs: ``python -m tests.stress.soak``)."""

from __future__ import annotations

from pathlib import Path

from tests.stress import session
from tests.stress.soak import SoakResult, soak


def test_the_soak_session_has_32_tracks_of_every_kind(tmp_path: Path) -> None:
    project = session.build(tmp_path)
    kinds = {type(t).__name__ for t in project.tracks}
    assert len(project.tracks) == 32
    assert {"AudioTrack", "MidiTrack", "Metatrack", "BusTrack"} <= kinds


def test_a_short_soak_passes_its_checks_and_measures_every_loop(tmp_path: Path) -> None:
    result = soak(6 * session.LOOP, tmp_path)
    assert len(result.loop_rms_db) == 6 and result.failures() == [], result.report()
    assert result.nonfinite == 0 and abs(result.rms_drift_db()) < 0.1


def test_the_soak_reports_drift_non_finite_samples_and_growth() -> None:
    result = SoakResult(seconds=3600.0, tracks=32, nonfinite=3)
    result.loop_rms_db = [-20.0] * 5 + [-19.0] * 5
    result.rss = [(0.0, 100.0), (600.0, 100.0), (3000.0, 300.0)]
    said = " | ".join(result.failures())
    assert "3 non-finite samples" in said and "RMS drifted" in said and "resident memory grew 200.0 MiB" in said


def test_the_real_time_soak_tells_overruns_and_publishes_from_the_systems_xruns() -> None:
    from tests.stress.realtime_soak import RealtimeResult

    result = RealtimeResult(seconds=60.0, commands=60_000, plans=60, polls=3600, blocks=11_250)
    result.xruns = [(10.0, 0.4, "system"), (20.0, 1.7, "overrun"), (21.0, 0.3, "publish")]
    said = result.report()
    assert "1000/s" in said and "60/s" in said
    assert "xruns: 3: a callback past its period 1, after a plan was published 1, the system's 1" in said
    assert "load around it 1.70 (overrun)" in said and "load around it 0.40 (system)" in said

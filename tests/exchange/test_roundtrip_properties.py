"""Any project made of random edits comes back from DAWproject and OTIO rendering bit for bit."""

from __future__ import annotations

import zipfile

import numpy as np
from hypothesis import HealthCheck, given, settings

import mixtree as mt
from mixtree.exchange.schema import validation_errors
from tests.conftest import RATE
from tests.model.test_persistence import OPS, _random_edit


def _project(ones, ops) -> mt.Project:
    p = mt.Project(sample_rate=RATE)
    source = p.pool.load(ones)
    p.add_audio_track("Base").add_clip(source, duration=0.5)
    for op in ops:
        _random_edit(p, source, *op)
    return p


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_projects_round_trip_through_dawproject_bit_identically(ones, tmp_path, ops):
    p = _project(ones, ops)
    out = p.export_dawproject(tmp_path / "song.dawproject")
    with zipfile.ZipFile(out) as z:
        assert validation_errors(z.read("project.xml"), z.read("metadata.xml")) == []
    q = mt.import_dawproject(out, media_dir=tmp_path / "media")
    assert [(type(t).__name__, t.name) for t in q.tracks] == [(type(t).__name__, t.name) for t in p.tracks]
    assert np.array_equal(q.render(0.0, 2.0), p.render(0.0, 2.0))


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=OPS)
def test_random_projects_round_trip_through_otio_bit_identically(ones, tmp_path, ops):
    p = _project(ones, ops)
    q = mt.import_otio(p.export_otio(tmp_path / "song.otio"))
    assert [(type(t).__name__, t.name) for t in q.tracks] == [(type(t).__name__, t.name) for t in p.tracks]
    assert np.array_equal(q.render(0.0, 2.0), p.render(0.0, 2.0))

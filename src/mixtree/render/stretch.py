"""Rubber Band for metatracks: pitch shifts and pitch-preserving speed changes.

A metatrack with ``pitch`` or ``preserve_pitch`` set plays a render of its subtree that
pedalboard's Rubber Band binding has stretched and transposed as a whole. The render is
made on the control side when a plan is compiled and cached until the subtree changes.
"""

from __future__ import annotations

import hashlib
import json
import math
from pathlib import Path

import numpy as np
import pedalboard

from mixtree.model.pool import Source
from mixtree.model.project import Project
from mixtree.model.project_file import track_document
from mixtree.model.tracks import Metatrack

_cache: dict[str, Source] = {}


def signature(project: Project, m: Metatrack) -> str:
    """Return a digest of everything that shapes ``m``'s stretched sound."""
    doc = {"rate": project.sample_rate, "track": track_document(m, Path("/"))}
    return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


def stretched(project: Project, m: Metatrack) -> Source:
    """Return ``m``'s subtree rendered and passed through Rubber Band (cached).

    The children play at their own speed, then Rubber Band makes them ``m.speed`` times
    faster; the pitch moves by ``m.pitch`` semitones, plus, without ``preserve_pitch``,
    what the speed change would do to it on tape.
    """
    from mixtree.render.bounce import render_subtree

    key = signature(project, m)
    if key not in _cache:
        audio = render_subtree(project, m)
        semitones = m.pitch + (0.0 if m.preserve_pitch else 12.0 * math.log2(m.speed))
        out = pedalboard.time_stretch(
            np.ascontiguousarray(audio.T),
            float(project.sample_rate),
            stretch_factor=m.speed,
            pitch_shift_in_semitones=semitones,
        )
        data = np.ascontiguousarray(out.T, dtype=np.float32)
        data.setflags(write=False)
        path = Path(f"<stretched {m.name}>")
        _cache[key] = Source(-len(_cache) - 1, path, data, project.sample_rate, project.sample_rate, 2, key)
    return _cache[key]

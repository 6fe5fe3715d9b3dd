"""One track's own signal rendered to an array, with the tail that rings on after its content.

What bounce, freeze and the stretched render of a metatrack are made from.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from mixtree.model.pool import Source
from mixtree.model.project import Project
from mixtree.model.structure import project_time
from mixtree.model.tracks import Metatrack, Track
from mixtree.render.compile import CompileOptions, compile_plan
from mixtree.render.offline import check_size, pre_roll
from mixtree.render.plan import RenderPlan
from mixtree.units import OFFLINE_BLOCK, seconds_to_frames

#: The longest tail (echoes, reverb, releases) a render keeps after the content ends, s.
TAIL_LIMIT = 30.0
#: A tail ends at its first block below this peak (about -140 dBFS).
SILENCE = 1e-7


def track_end(project: Project, track: Track) -> float:
    """Return when ``track``'s content ends, in project seconds."""
    return max(0.0, project_time(project, track, project.content_end(track)))


def render_track(project: Project, track: Track, pre_effects: bool, blocksize: int = OFFLINE_BLOCK) -> np.ndarray:
    """Render ``track``'s own signal from 0 to its content's end and its tail, before its fader.

    ``pre_effects``: the sum of its clips and children as it enters its chain; otherwise
    as it leaves the chain. float32 ``(frames, 2)``.
    """
    frames = seconds_to_frames(track_end(project, track), project.sample_rate)
    plan = compile_plan(project, CompileOptions(max_block=blocksize, fresh=True, keep=track.id))
    return tap(plan, track.id, pre_effects, frames, blocksize)


def subtree_plan(
    project: Project,
    m: Metatrack,
    blocksize: int = OFFLINE_BLOCK,
    stretch: Callable[[Project, Metatrack], Source] | None = None,
) -> tuple[RenderPlan, int]:
    """Return a plan of ``m``'s children alone on their own timeline (no transform of ``m``
    or above) and the frames their content lasts: what `tap` renders ``m``'s submix from.
    ``stretch`` gives the renders of stretched metatracks inside (see `CompileOptions`).

    Compile it on the control side; the plan itself reads no model, so it may be
    rendered on another thread."""
    frames = seconds_to_frames(project.content_end(m), project.sample_rate)
    options = CompileOptions(max_block=blocksize, fresh=True, root=m, keep=m.id, stretch=stretch)
    return compile_plan(project, options), frames


def tap(plan: RenderPlan, ident: int, pre_effects: bool, frames: int, blocksize: int) -> np.ndarray:
    """Render ``frames`` frames of track ``ident``'s signal from ``plan`` (before or after
    its effects, before its fader), then its tail while it still sounds (up to
    `TAIL_LIMIT`): a freeze or a bounce must play on as the live track did after its
    last clip. float32 ``(frames + tail, 2)``; raise ``ValueError`` if the content alone
    would take more memory than `offline.MAX_RENDER_BYTES`."""
    limit = frames + int(TAIL_LIMIT * plan.sample_rate)
    check_size(frames, plan.sample_rate, "the track's render", "its content ends too late to hold it in memory")
    plan.set_tap(ident, pre_effects)
    late = pre_roll(plan, 0, plan.tap_latency(), blocksize)  # plugins' latency: aligned to the timeline
    out = np.zeros((frames + blocksize, 2), dtype=np.float32)
    mix = np.zeros((blocksize, 2), dtype=np.float32)
    at, peak = 0, 0.0
    while at < frames or (at < limit and peak > SILENCE):
        if at + blocksize > out.shape[0]:
            out = np.concatenate([out, np.zeros_like(out)])
        n = min(blocksize, frames - at) if at < frames else blocksize
        plan.process(mix[:n], late + at)
        out[at : at + n] = plan.tap_buf[:n]
        peak = float(np.abs(plan.tap_buf[:n]).max())
        at += n
    sounding = np.flatnonzero(np.abs(out[frames:at]).max(axis=1) > SILENCE)
    return out[: frames + (int(sounding[-1]) + 1 if sounding.size else 0)]

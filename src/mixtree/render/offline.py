"""Offline render: a plan's block loop run as fast as the CPU allows, into an array."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np

from mixtree.model import checks
from mixtree.model.project import Project
from mixtree.render.compile import CompileOptions, check_block, compile_plan
from mixtree.render.parallel import offline_setup
from mixtree.render.plan import RenderPlan
from mixtree.units import MAX_SECONDS, OFFLINE_BLOCK, seconds_to_frames

#: ``progress(done_frames, total_frames)``, called as a render advances.
Progress = Callable[[int, int], None]

#: Frames rendered between two writes (and progress calls) of an export.
CHUNK_FRAMES = 1 << 16

#: The most memory a render into an array may take, bytes (longer renders: export to a file).
MAX_RENDER_BYTES = 2 << 30


def check_size(frames: int, rate: int, what: str, instead: str = "render a shorter range") -> None:
    """Raise ``ValueError`` if ``frames`` of stereo float32 would take more than
    `MAX_RENDER_BYTES`, saying what to do ``instead``."""
    size = frames * 2 * 4
    if size > MAX_RENDER_BYTES:
        raise ValueError(
            f"{what} of {frames / rate:.0f} s would take {size / 2**30:.1f} GiB of memory "
            f"(the limit is {MAX_RENDER_BYTES / 2**30:.0f} GiB): {instead}"
        )


def frame_range(project: Project, start: float, duration: float | None) -> tuple[int, int]:
    """Return (first frame, frames) for a render of ``duration`` seconds (default: to the
    end) from ``start``; raise ``ValueError`` for a negative, non-finite or endless range
    (one that ends past `MAX_SECONDS`)."""
    start = checks.number("start", 0.0, MAX_SECONDS)(start)
    if duration is None:
        end = project.duration
        if end > MAX_SECONDS:  # slow metatracks can push content past any session's end
            raise ValueError(
                f"the project's content ends at {end:.4g} s, past the longest session ({MAX_SECONDS:.0f} s; "
                "a metatrack's speed stretches it): give a duration"
            )
        duration = max(0.0, end - start)
    duration = checks.number("duration", 0.0, MAX_SECONDS - start)(duration)
    rate = project.sample_rate
    return seconds_to_frames(start, rate), seconds_to_frames(duration, rate)


def render_plan(
    plan: RenderPlan,
    out: np.ndarray,
    position: int,
    blocksize: int,
) -> None:
    """Fill ``out`` ``(frames, 2)`` from absolute frame ``position``, ``blocksize`` at a time."""
    frames = out.shape[0]
    for at in range(0, frames, blocksize):
        plan.process(out[at : at + blocksize], position + at)


def latency(project: Project) -> int:
    """Return how many frames the mix lags the timeline through the project's plugins
    (compensated across the tree; renders and bounces are aligned for it)."""
    return compile_plan(project, CompileOptions(fresh=True)).latency


def pre_roll(plan: RenderPlan, position: int, frames: int, blocksize: int) -> int:
    """Run ``plan`` for ``frames`` frames from ``position``, throwing the output away, and
    return the position after: a plan whose output lags the timeline by ``frames`` (its
    compensated plugin latency) then gives the timeline's audio from ``position`` on."""
    scratch = np.zeros((min(max(frames, 1), blocksize), 2), np.float32)
    for at in range(0, frames, blocksize):
        plan.process(scratch[: min(blocksize, frames - at)], position + at)
    return position + frames


class RenderWarning(UserWarning):
    """A track was silenced during an offline render (an effect failed or went non-finite)."""


def warn_failures(project: Project, plan: RenderPlan) -> None:
    """Warn (`RenderWarning`) once for each track a render had to silence, naming it."""
    slot = plan.next_failure()
    while slot >= 0:
        name = project.track(int(plan.track_ids[slot])).name
        reason = plan.fail_reasons[slot] or "its output turned NaN or infinite"
        warnings.warn(f"track {name!r} was silenced: {reason}", RenderWarning, stacklevel=3)
        slot = plan.next_failure()


def render(
    project: Project,
    start: float = 0.0,
    duration: float | None = None,
    blocksize: int = OFFLINE_BLOCK,
    progress: Progress | None = None,
    threads: int | None = None,
) -> np.ndarray:
    """Render ``project`` offline.

    Parameters
    ----------
    start, duration
        The range in seconds; ``duration`` defaults to the end of the last clip.
    blocksize
        Frames per block, 32..8192; every size gives the same samples.
    progress
        Called with (frames done, frames in all) as the render advances.
    threads
        Threads the effects run on (`mixtree.render.parallel`; default ``MIXTREE_THREADS``,
        else 1): the same samples, sooner.

    Returns
    -------
    numpy.ndarray
        float32 ``(frames, 2)`` at the project rate.
    """
    blocksize = check_block(blocksize)
    first, frames = frame_range(project, start, duration)
    check_size(frames, project.sample_rate, "a render", "export() streams a render of any length to a file")
    blocksize, threads = offline_setup(blocksize, threads)
    plan = compile_plan(project, CompileOptions(max_block=blocksize, fresh=True, threads=threads))
    plan.chase(first)
    at_output = pre_roll(plan, first, plan.latency, blocksize)  # plugins' latency: aligned to the timeline
    out = np.zeros((frames, 2), dtype=np.float32)
    step = max(blocksize, CHUNK_FRAMES // blocksize * blocksize)
    try:
        for at in range(0, frames, step):
            render_plan(plan, out[at : at + step], at_output + at, blocksize)
            if progress is not None:
                progress(min(frames, at + step), frames)
    finally:
        if plan.streams is not None:
            plan.streams.close()  # the files it streamed from
    warn_failures(project, plan)
    return out

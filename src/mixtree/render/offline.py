"""Offline render: run a plan's block loop as fast as the CPU allows, to an array or a file."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf

from mixtree.errors import MediaError
from mixtree.io.audio_file import format_for, open_for_writing
from mixtree.io.quantize import Quantizer
from mixtree.model.project import Project
from mixtree.render.compile import check_block, compile_plan
from mixtree.render.plan import RenderPlan
from mixtree.units import seconds_to_frames

#: ``progress(done_frames, total_frames)``, called as a render advances.
Progress = Callable[[int, int], None]

#: Frames rendered between two writes (and progress calls) of an export.
CHUNK_FRAMES = 1 << 16


def frame_range(project: Project, start: float, duration: float | None) -> tuple[int, int]:
    """Return (first frame, frames) for a render of ``duration`` seconds (default: to the
    end) from ``start``; raise ``ValueError`` for a negative or non-finite one."""
    if not np.isfinite(start) or start < 0:
        raise ValueError(f"start must be a time >= 0 s, not {start!r}")
    if duration is None:
        duration = max(0.0, project.duration - start)
    if not np.isfinite(duration) or duration < 0:
        raise ValueError(f"duration must be a time >= 0 s, not {duration!r}")
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


@contextmanager
def write_errors(path: Path) -> Iterator[None]:
    """Turn what libsndfile or the system raise while writing into a `MediaError` naming ``path``."""
    try:
        yield
    except (sf.LibsndfileError, OSError) as exc:
        if isinstance(exc, MediaError):
            raise
        raise MediaError(path, f"cannot write: {exc}") from exc


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
    blocksize: int = 512,
    progress: Progress | None = None,
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

    Returns
    -------
    numpy.ndarray
        float32 ``(frames, 2)`` at the project rate.
    """
    blocksize = check_block(blocksize)
    first, frames = frame_range(project, start, duration)
    plan = compile_plan(project, max_block=blocksize, fresh=True)
    plan.chase(first)
    out = np.zeros((frames, 2), dtype=np.float32)
    step = max(blocksize, CHUNK_FRAMES // blocksize * blocksize)
    for at in range(0, frames, step):
        render_plan(plan, out[at : at + step], first + at, blocksize)
        if progress is not None:
            progress(min(frames, at + step), frames)
    warn_failures(project, plan)
    return out


def export(
    project: Project,
    path: str | Path,
    start: float = 0.0,
    duration: float | None = None,
    subtype: str | None = None,
    blocksize: int = 512,
    progress: Progress | None = None,
) -> Path:
    """Render ``project`` into an audio file, streaming it chunk by chunk.

    The format follows the extension (WAV, FLAC, OGG, MP3); ``subtype`` is ``"float"``,
    ``"24"`` or ``"16"`` (TPDF-dithered, deterministically). Returns the path written.
    """
    path = Path(path)
    blocksize = check_block(blocksize)
    _, sub = format_for(path, subtype)
    first, frames = frame_range(project, start, duration)
    plan = compile_plan(project, max_block=blocksize, fresh=True)
    plan.chase(first)
    quantizer = Quantizer(sub)
    step = max(blocksize, CHUNK_FRAMES // blocksize * blocksize)
    chunk = np.zeros((step, 2), dtype=np.float32)
    with write_errors(path), open_for_writing(path, project.sample_rate, 2, subtype) as f:
        for at in range(0, frames, step):
            n = min(step, frames - at)
            render_plan(plan, chunk[:n], first + at, blocksize)
            f.write(quantizer(chunk[:n]))
            if progress is not None:
                progress(at + n, frames)
    if frames == 0 and progress is not None:
        progress(0, 0)
    warn_failures(project, plan)
    return path

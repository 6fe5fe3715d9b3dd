"""Export: a project rendered offline into an audio file, streamed chunk by chunk."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import numpy as np
import soundfile as sf

from mixtree.errors import MediaError
from mixtree.io.audio_file import format_for, open_for_writing
from mixtree.io.quantize import Quantizer
from mixtree.model.project import Project
from mixtree.render.compile import CompileOptions, check_block, compile_plan
from mixtree.render.offline import CHUNK_FRAMES, Progress, frame_range, pre_roll, render_plan, warn_failures
from mixtree.render.parallel import offline_setup
from mixtree.units import OFFLINE_BLOCK


@contextmanager
def write_errors(path: Path) -> Iterator[None]:
    """Turn what libsndfile or the system raise while writing into a `MediaError` naming ``path``."""
    try:
        yield
    except (sf.LibsndfileError, OSError) as exc:
        if isinstance(exc, MediaError):
            raise
        raise MediaError(path, f"cannot write: {exc}") from exc


def export(
    project: Project,
    path: str | Path,
    start: float = 0.0,
    duration: float | None = None,
    subtype: str | None = None,
    blocksize: int = OFFLINE_BLOCK,
    progress: Progress | None = None,
    threads: int | None = None,
) -> Path:
    """Render ``project`` into an audio file, streaming it chunk by chunk.

    The format follows the extension (WAV, FLAC, OGG, MP3); ``subtype`` is ``"float"``,
    ``"24"`` or ``"16"`` (TPDF-dithered, deterministically). ``threads``: as for
    `mixtree.render.offline.render`. Returns the path written.
    """
    path = Path(path)
    blocksize = check_block(blocksize)
    _, sub = format_for(path, subtype)
    first, frames = frame_range(project, start, duration)
    blocksize, threads = offline_setup(blocksize, threads)
    plan = compile_plan(project, CompileOptions(max_block=blocksize, fresh=True, threads=threads))
    plan.chase(first)
    at_output = pre_roll(plan, first, plan.latency, blocksize)  # plugins' latency: aligned to the timeline
    quantizer = Quantizer(sub)
    step = max(blocksize, CHUNK_FRAMES // blocksize * blocksize)
    chunk = np.zeros((step, 2), dtype=np.float32)
    with write_errors(path), open_for_writing(path, project.sample_rate, 2, subtype) as f:
        for at in range(0, frames, step):
            n = min(step, frames - at)
            render_plan(plan, chunk[:n], at_output + at, blocksize)
            f.write(quantizer(chunk[:n]))
            if progress is not None:
                progress(at + n, frames)
    if frames == 0 and progress is not None:
        progress(0, 0)
    warn_failures(project, plan)
    return path

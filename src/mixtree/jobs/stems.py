"""Stems: every top-level track rendered to a file of its own, in one pass over the plan."""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path

import numpy as np

from mixtree.io.audio_file import format_for, open_for_writing
from mixtree.io.quantize import Quantizer
from mixtree.jobs.export import write_errors
from mixtree.model.project import Project
from mixtree.render.compile import CompileOptions, check_block, compile_plan, stem_slots
from mixtree.render.offline import CHUNK_FRAMES, Progress, frame_range, pre_roll, warn_failures
from mixtree.render.parallel import offline_setup
from mixtree.units import OFFLINE_BLOCK


def stem_name(index: int, name: str, extension: str) -> str:
    """Return a stem's file name: its place in the mix, then the track's name made safe."""
    safe = re.sub(r"[^\w\- ]+", "_", name).strip() or "track"
    return f"{index:02d} {safe}.{extension.lstrip('.')}"


def export_stems(
    project: Project,
    folder: str | Path,
    start: float = 0.0,
    duration: float | None = None,
    subtype: str | None = None,
    extension: str = "wav",
    blocksize: int = OFFLINE_BLOCK,
    tracks: list[int] | None = None,
    progress: Progress | None = None,
    threads: int | None = None,
) -> list[Path]:
    """Render each top-level track (or those of ``tracks``) to ``folder``, one file each.

    A stem is what the track adds to the master: after its chain, fader and pan, a
    metatrack with its whole subtree, a bus with what is sent to it (a track's stem
    leaves its sends out). The stems add up to the mix before the master's chain and
    fader. One pass renders them all.

    Parameters
    ----------
    folder
        Where the files go (made if missing), named by `stem_name`.
    start, duration
        The range in seconds; ``duration`` defaults to the end of the last clip.
    subtype, extension
        Sample format (``"float"``, ``"24"``, ``"16"``: dithered) and file type
        (``"wav"``, ``"flac"``, ``"ogg"``, ``"mp3"``), as for `mixtree.jobs.export.export`.
    blocksize
        Frames per block, 32..8192.
    tracks
        Ids of the top-level tracks to render, in the order to number them; all by default.
    progress
        Called with (frames done, frames in all) as the render advances.
    threads
        As for `mixtree.render.offline.render`.

    Returns
    -------
    list of Path
        The files written, in ``tracks`` order: stereo at the project rate.
    """
    folder = Path(folder)
    blocksize = check_block(blocksize)
    top = {t.id: t for t in project.top_tracks}
    chosen = list(top) if tracks is None else tracks
    for ident in chosen:
        if ident not in top:
            raise ValueError(f"track #{ident} is not a top-level track: stems are made of those")
    paths = [folder / stem_name(i + 1, top[ident].name, extension) for i, ident in enumerate(chosen)]
    _, sub = format_for(folder / f"stem.{extension.lstrip('.')}", subtype)
    if not paths:
        return []
    first, frames = frame_range(project, start, duration)
    blocksize, threads = offline_setup(blocksize, threads)
    plan = compile_plan(project, CompileOptions(max_block=blocksize, fresh=True, threads=threads))
    plan.chase(first)
    plan.keep_gains()  # read after each block, below
    at_master = pre_roll(plan, first, int(plan.compensation.inputs[0]), blocksize)  # aligned where stems are taken
    owners = stem_slots(project, plan)
    slots = [np.array(owners[ident], np.intp) for ident in chosen]
    mix = np.zeros((blocksize, 2), np.float32)
    step = max(blocksize, CHUNK_FRAMES // blocksize * blocksize)
    chunk = np.zeros((len(chosen), step, 2), np.float32)
    quantizers = [Quantizer(sub, seed=k) for k in range(len(chosen))]
    with write_errors(folder), ExitStack() as files:
        folder.mkdir(parents=True, exist_ok=True)
        out = [files.enter_context(open_for_writing(p, project.sample_rate, 2, subtype)) for p in paths]
        for at in range(0, frames, step):
            n = min(step, frames - at)
            for b in range(0, n, blocksize):
                m = min(blocksize, n - b)
                plan.process(mix[:m], at_master + at + b)
                # what each slot added to the master this block: its buffer through
                # its fader's gain at each frame (automation included); a failed slot
                # added nothing
                live = ~plan.failed
                for k, owned in enumerate(slots):
                    owned = owned[live[owned]]
                    gains = plan.mix.gains[owned, :m].astype(np.float32)
                    gains[plan.mix.rest[owned]] = gains[plan.mix.rest[owned], :1]  # (`Mix.rest`: frame 0 holds)
                    chunk[k, b : b + m] = (gains * plan.track_buf[owned, :m]).sum(axis=0)
            for k, f in enumerate(out):
                f.write(quantizers[k](chunk[k, :n]))
            if progress is not None:
                progress(at + n, frames)
    warn_failures(project, plan)
    return paths

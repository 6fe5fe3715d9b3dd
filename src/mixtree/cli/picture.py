"""The picture of a mix: the project's track lanes over the waveform and spectrogram (matplotlib)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from scipy import signal

from mixtree.model.project import Project
from mixtree.model.structure import ancestors, time_map, walk
from mixtree.model.tracks import AudioTrack, BusTrack, Metatrack, MidiTrack, Track

if TYPE_CHECKING:
    from matplotlib.axes import Axes

#: What to do without matplotlib, in one line.
INSTALL = "--picture needs matplotlib: pip install 'matplotlib>=3.7' (the 'picture' extra of mixtree)"

#: Lane colours by what a track is.
COLORS = {"audio": "#4c72b0", "midi": "#dd8452", "metatrack": "#55a868", "alias": "#8fce9a", "bus": "#8172b3"}

Span = tuple[float, float]
Lane = tuple[str, int, str, list[Span]]


def available() -> bool:
    """Return True if matplotlib can be imported."""
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def lanes(project: Project, gap: float = 0.5) -> list[Lane]:
    """Return a lane per track, in tree order: label, depth, kind and the spans it plays.

    Spans are project seconds, through every metatrack's offset and speed; spans closer
    than ``gap`` seconds merge. A metatrack plays where its subtree does, a bus where
    the tracks sending to it do.
    """
    own: dict[int, list[Span]] = {t.id: _spans(project, t) for t in project.tracks}

    def subtree(t: Track) -> list[Span]:
        return [s for u in walk([t]) for s in own[u.id]]

    out = []
    for t in project.tracks:
        if isinstance(t, Metatrack):
            spans = subtree(t)
        elif isinstance(t, BusTrack):
            spans = [s for u in project.tracks if any(x.bus_id == t.id for x in u.sends) for s in subtree(u)]
        else:
            spans = own[t.id]
        out.append((_label(project, t), len(ancestors(project, t)), _kind(t), _merge(spans, gap)))
    return out


def _spans(project: Project, t: Track) -> list[Span]:
    spans: list[Span] = []
    if isinstance(t, AudioTrack):
        spans = [(c.start, c.end) for c in t.clips if not c.muted] + [(a.start, a.end) for a in t.aliases]
    elif isinstance(t, MidiTrack):
        for c in t.midi_clips:
            for n in c.notes:
                begin = c.start + n.start - c.offset
                spans.append((max(begin, c.start), min(begin + n.duration, c.end)))
    a, b = time_map(project, t)
    return [((s - b) / a, (e - b) / a) for s, e in spans if e > s]


def _merge(spans: list[Span], gap: float) -> list[Span]:
    merged: list[list[float]] = []
    for s, e in sorted(spans):
        if merged and s <= merged[-1][1] + gap:
            merged[-1][1] = max(merged[-1][1], e)
        else:
            merged.append([s, e])
    return [(s, e) for s, e in merged]


def _kind(t: Track) -> str:
    if isinstance(t, AudioTrack) and t.aliases:
        return "alias"
    return {Metatrack: "metatrack", MidiTrack: "midi", BusTrack: "bus"}.get(type(t), "audio")


def _label(project: Project, t: Track) -> str:
    notes = []
    if isinstance(t, Metatrack):
        notes += [f"speed {t.speed:g}"] if t.speed != 1.0 else []
        notes += [f"offset {t.offset:g} s"] if t.offset != 0.0 else []
    elif isinstance(t, AudioTrack) and t.aliases:
        notes.append("alias of " + ", ".join(sorted({project.track(a.metatrack_id).name for a in t.aliases})))
    elif isinstance(t, MidiTrack):
        notes.append(f"MIDI, {type(t.instrument).__name__}")
    elif isinstance(t, BusTrack):
        notes.append("bus")
    return t.name + (f" ({', '.join(notes)})" if notes else "")


def draw(
    path: str | Path,
    mix: np.ndarray,
    sample_rate: int,
    rows: Sequence[Lane] = (),
    sections: Sequence[tuple[float, float, str]] = (),
    title: str = "",
) -> Path:
    """Draw ``mix`` as a PNG: the track lanes, the waveform and a spectrogram, sections marked.

    Parameters
    ----------
    path
        The PNG to write.
    mix
        float32 ``(frames, channels)``.
    sample_rate
        Of ``mix``, Hz.
    rows
        Lanes from `lanes`, drawn top to bottom.
    sections
        ``(start, end, name)`` in seconds, marked on every panel and named above.

    Returns
    -------
    Path
        The file written.
    """
    from matplotlib.figure import Figure

    mono = mix.mean(axis=1) if mix.ndim == 2 else mix
    seconds = len(mono) / sample_rate
    fig = Figure(figsize=(9.0, 3.1 + 0.21 * len(rows)), dpi=110, layout="constrained")
    ratios = [0.21 * max(len(rows), 1), 1.0, 1.6]
    lane_ax, wave_ax, spec_ax = fig.subplots(3, 1, sharex=True, height_ratios=ratios)
    if title:
        fig.suptitle(title, fontsize=11)
    _draw_lanes(lane_ax, rows)
    _draw_waveform(wave_ax, mono, sample_rate, float(np.abs(mix).max()) if mix.size else 0.0)
    _draw_spectrogram(spec_ax, mono, sample_rate)
    spec_ax.set_xlabel("seconds", fontsize=8)
    spec_ax.set_xlim(0, seconds)
    for ax in (lane_ax, wave_ax, spec_ax):
        ax.tick_params(labelsize=8)
        for start, _end, _name in sections:
            ax.axvline(start, color="0.35", linewidth=0.8, linestyle="--")
    names = lane_ax.secondary_xaxis("top")
    names.set_xticks([(s + min(e, seconds)) / 2 for s, e, _n in sections], [n for _s, _e, n in sections])
    names.tick_params(length=0, labelsize=9)
    path = Path(path)
    fig.savefig(path)
    return path


def _draw_lanes(ax: Axes, rows: Sequence[Lane]) -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.font_manager import FontProperties

    for i, (_label, _depth, kind, spans) in enumerate(rows):
        ax.broken_barh([(s, e - s) for s, e in spans], (i - 0.38, 0.76), color=COLORS[kind])
    tree = ["  " * (depth - 1) + "└ " * (depth > 0) + label for label, depth, _k, _s in rows]
    ax.set_yticks(range(len(rows)), tree, fontsize=8, ha="left")
    # Left-aligned, so that the tree indents: pad them by the widest label.
    measure = FigureCanvasAgg(ax.figure).get_renderer().get_text_width_height_descent
    widest = max((measure(s, FontProperties(size=8), ismath=False)[0] for s in tree), default=0.0)
    ax.tick_params(axis="y", length=0, pad=4 + widest * 72 / ax.figure.dpi)
    ax.set_ylim(len(rows) - 0.5, -0.5)


def _draw_waveform(ax: Axes, mono: np.ndarray, sample_rate: int, peak: float) -> None:
    per = max(1, len(mono) // 1600)  # frames per column
    blocks = mono[: len(mono) // per * per].reshape(-1, per).astype(np.float64)
    t = (np.arange(len(blocks)) + 0.5) * per / sample_rate
    rms = np.sqrt(np.mean(blocks**2, axis=1))
    ax.fill_between(t, blocks.min(axis=1), blocks.max(axis=1), color="#9db4d6", linewidth=0)
    ax.fill_between(t, -rms, rms, color="#2f4b7c", linewidth=0)
    ax.set_ylim(-1, 1)
    ax.set_yticks([-1, 0, 1])
    peak_db = 20 * np.log10(peak) if peak > 0 else -np.inf
    ax.set_ylabel(f"mix\npeak {peak_db:.1f} dBFS", fontsize=8)


def _draw_spectrogram(ax: Axes, mono: np.ndarray, sample_rate: int) -> None:
    size = max(16, min(4096, len(mono)))
    freqs, times, spec = signal.stft(mono, fs=sample_rate, nperseg=size, noverlap=size * 3 // 4)
    power_db = 10 * np.log10(np.abs(spec) ** 2 + 1e-20)
    # Rows spaced evenly in log frequency, interpolated between the STFT's bins.
    rows_hz = np.geomspace(30.0, min(16000.0, sample_rate / 2), 180)
    at = rows_hz / (freqs[1] - freqs[0])
    lo = np.minimum(np.floor(at).astype(int), len(freqs) - 2)
    frac = (at - lo)[:, None]
    image = power_db[lo] * (1 - frac) + power_db[lo + 1] * frac
    top = image.max() if image.size else 0.0
    ax.pcolormesh(times, rows_hz, image, shading="nearest", cmap="magma", vmin=top - 80, vmax=top)
    ax.set_yscale("log")
    ticks = {50: "50", 200: "200", 1000: "1k", 4000: "4k", 16000: "16k"}
    ax.set_yticks(*zip(*[(f, name) for f, name in ticks.items() if f <= rows_hz[-1]], strict=True))
    ax.set_ylim(rows_hz[0], rows_hz[-1])
    ax.set_ylabel("Hz", fontsize=8)

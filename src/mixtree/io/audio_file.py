"""Decode and encode audio files with soundfile, as float32 ``(frames, channels)``."""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from mixtree.errors import MediaError
from mixtree.io.mpeg import TYPICAL_DELAY, gapless_header
from mixtree.io.quantize import Quantizer

#: Container formats by file extension, as soundfile names them.
FORMATS = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".mp3": "MP3"}

#: Sample formats ``write`` accepts, by their short names.
SUBTYPES = {"float": "FLOAT", "24": "PCM_24", "16": "PCM_16"}

#: The sample format each container gets when none is asked for.
DEFAULT_SUBTYPE = {"WAV": "float", "FLAC": "24", "OGG": "vorbis", "MP3": "mp3"}


class MediaWarning(UserWarning):
    """Audio was readable but had to be repaired (for example NaN samples)."""


@dataclass(frozen=True, slots=True)
class DecodedAudio:
    """Audio decoded from a file: ``data`` is float32 ``(frames, channels)``."""

    data: np.ndarray
    sample_rate: int
    path: Path

    @property
    def frames(self) -> int:
        """Return the length in frames."""
        return self.data.shape[0]

    @property
    def channels(self) -> int:
        """Return the channel count."""
        return self.data.shape[1]


def read(path: str | Path) -> DecodedAudio:
    """Decode a whole audio file to float32.

    Non-finite samples (NaN, Inf) become silence, with a `MediaWarning` naming the file.
    MP3s are trimmed of encoder delay and padding where a gapless header says how much;
    one without gets a `MediaWarning`.

    Raises
    ------
    MediaError
        The file is missing, unreadable, empty, corrupt or in a format soundfile cannot read.
    """
    path = Path(path)
    if not path.exists():
        raise MediaError(path, "no such file")
    if not path.is_file():
        raise MediaError(path, "not a regular file")
    if path.stat().st_size == 0:
        raise MediaError(path, "the file is empty")
    try:
        with sf.SoundFile(str(path)) as f:
            kind = f.format
            data = f.read(dtype="float32", always_2d=True)
            rate = f.samplerate
    except sf.LibsndfileError as exc:
        raise MediaError(path, _reason(exc)) from exc
    except (RuntimeError, ValueError, TypeError) as exc:
        raise MediaError(path, str(exc) or type(exc).__name__) from exc
    if data.shape[0] == 0:
        raise MediaError(path, "the file holds no audio frames")
    if rate <= 0:
        raise MediaError(path, f"its header gives an impossible sample rate {rate}")
    if kind == "MP3" and not _gapless(path):
        warnings.warn(
            f"'{path}': an MP3 without a gapless (Xing/LAME) header: its encoder delay cannot be "
            f"trimmed, so it starts late (usually by {TYPICAL_DELAY} samples)",
            MediaWarning,
            stacklevel=2,
        )
    bad = ~np.isfinite(data)
    if bad.any():
        data[bad] = 0.0
        warnings.warn(
            f"'{path}': {int(bad.sum())} NaN or infinite samples replaced by silence",
            MediaWarning,
            stacklevel=2,
        )
    return DecodedAudio(np.ascontiguousarray(data), int(rate), path)


def _gapless(path: Path) -> bool:
    try:
        return bool(gapless_header(path))
    except OSError:  # it decoded a moment ago: say nothing rather than fail now
        return True


def _reason(exc: sf.LibsndfileError) -> str:
    text = exc.error_string or str(exc)
    return text[0].lower() + text[1:] if text else "libsndfile could not decode it"


def format_for(path: str | Path, subtype: str | None = None) -> tuple[str, str]:
    """Return soundfile's (format, subtype) for ``path``'s extension and a short subtype.

    ``subtype`` is ``"float"``, ``"24"`` or ``"16"`` for WAV and FLAC (FLAC has no float);
    OGG is always Vorbis and MP3 always MPEG layer III.
    """
    ext = Path(path).suffix.lower()
    if ext not in FORMATS:
        known = ", ".join(FORMATS)
        raise ValueError(f"cannot write '{path}': extension must be one of {known}")
    fmt = FORMATS[ext]
    if fmt == "OGG":
        return fmt, "VORBIS"
    if fmt == "MP3":
        return fmt, "MPEG_LAYER_III"
    subtype = subtype or DEFAULT_SUBTYPE[fmt]
    if subtype not in SUBTYPES or (fmt == "FLAC" and subtype == "float"):
        allowed = "24, 16" if fmt == "FLAC" else "float, 24, 16"
        raise ValueError(f"{fmt} sample format must be one of {allowed}, not {subtype!r}")
    return fmt, SUBTYPES[subtype]


#: libsndfile's command to switch the float formats' PEAK chunk, which holds a timestamp.
_SFC_SET_ADD_PEAK_CHUNK = 0x1050


def open_for_writing(path: str | Path, sample_rate: int, channels: int, subtype: str | None = None) -> sf.SoundFile:
    """Open ``path`` for writing, format by extension, with no timestamp in the file, so
    the same audio always gives the same bytes."""
    fmt, sub = format_for(path, subtype)
    try:
        f = sf.SoundFile(str(path), "w", samplerate=sample_rate, channels=channels, subtype=sub, format=fmt)
    except sf.LibsndfileError as exc:
        raise MediaError(path, f"cannot write: {_reason(exc)}") from exc
    sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)  # no public API for it
    return f


def write(
    path: str | Path,
    audio: np.ndarray,
    sample_rate: int,
    subtype: str | None = None,
) -> None:
    """Write float32 ``(frames, channels)`` audio to ``path``, format by extension.

    Parameters
    ----------
    path
        Destination; ``.wav``, ``.flac``, ``.ogg`` or ``.mp3``.
    audio
        Samples, float32 ``(frames, channels)``, full scale ±1.
    sample_rate
        In Hz.
    subtype
        ``"float"`` (32-bit float), ``"24"`` or ``"16"`` (TPDF-dithered) PCM; by default
        float for WAV, 24-bit for FLAC.
    """
    _, sub = format_for(path, subtype)
    with open_for_writing(path, sample_rate, audio.shape[1], subtype) as f:
        f.write(Quantizer(sub)(audio))

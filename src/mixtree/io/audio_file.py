"""Decode and encode audio files with soundfile, as float32 ``(frames, channels)``."""

from __future__ import annotations

import os
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

#: The sample rates a file may have, in Hz; a header outside them is taken to lie.
MIN_SAMPLE_RATE = 1_000
MAX_SAMPLE_RATE = 1_000_000

#: The most a source may take once decoded (or resampled), in bytes of float32 samples: 4 GiB,
#: checked from the header before anything is read, so a lying header cannot exhaust memory.
MAX_DECODED_BYTES = 4 * 2**30

#: The length libsndfile gives a stream whose header does not say how long it is.
_UNKNOWN_LENGTH = 2**63 - 1


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

    The header is checked before anything is decoded: its sample rate must lie within
    `MIN_SAMPLE_RATE` to `MAX_SAMPLE_RATE` and the decoded audio must fit `MAX_DECODED_BYTES`.

    Raises
    ------
    MediaError
        The file is missing, unreadable, empty, corrupt, in a format soundfile cannot read,
        or its header claims a rate or size out of bounds.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError(path, "no such file") from None
    except OSError as exc:  # a name too long, a folder that cannot be read
        raise MediaError(path, exc.strerror or str(exc)) from exc
    if not path.is_file():
        raise MediaError(path, "not a regular file")
    if size == 0:
        raise MediaError(path, "the file is empty")
    try:
        with sf.SoundFile(str(path)) as f:
            kind = f.format
            rate = f.samplerate
            _check_header(path, f)
            claimed = f.frames
            data = _decode(path, f)
    except sf.LibsndfileError as exc:
        raise MediaError(path, _open_reason(path, exc)) from exc
    except (RuntimeError, ValueError, TypeError) as exc:
        raise MediaError(path, str(exc) or type(exc).__name__) from exc
    if data.shape[0] == 0:
        raise MediaError(path, "the file holds no audio frames (it is empty, truncated or damaged)")
    if data.shape[0] < claimed and kind != "MP3":  # an MP3's length is only estimated
        warnings.warn(
            f"'{path}': only {data.shape[0]} of the {claimed} frames its header gives could be decoded "
            f"(a damaged or truncated file): the rest is missing",
            MediaWarning,
            stacklevel=2,
        )
    if kind == "MP3":
        warn_if_late(path)
    bad = ~np.isfinite(data)
    if bad.any():
        data[bad] = 0.0
        warnings.warn(
            f"'{path}': {int(bad.sum())} NaN or infinite samples replaced by silence",
            MediaWarning,
            stacklevel=2,
        )
    return DecodedAudio(np.ascontiguousarray(data), int(rate), path)


@dataclass(frozen=True, slots=True)
class AudioInfo:
    """What a file's header says: its length in frames, rate, channels and container."""

    frames: int
    sample_rate: int
    channels: int
    format: str


def warn_if_late(path: Path) -> None:
    """Warn (`MediaWarning`) if the MP3 ``path`` has no gapless header: it starts late."""
    if not _gapless(path):
        warnings.warn(
            f"'{path}': an MP3 without a gapless (Xing/LAME) header: its encoder delay cannot be "
            f"trimmed, so it starts late (usually by {TYPICAL_DELAY} samples)",
            MediaWarning,
            stacklevel=3,
        )


def info(path: str | Path) -> AudioInfo:
    """Return what ``path``'s header says, checked as `read` checks it; nothing is decoded.

    Raises `MediaError` as `read` does for a file that is missing, empty, unreadable or
    whose header claims a rate out of bounds; its size is not limited (it may stream).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise MediaError(path, "no such file") from None
    except OSError as exc:
        raise MediaError(path, exc.strerror or str(exc)) from exc
    if not path.is_file() or size == 0:
        raise MediaError(path, "not a regular file" if not path.is_file() else "the file is empty")
    try:
        with sf.SoundFile(str(path)) as f:
            _check_header(path, f, whole=False)
            if f.frames == 0:
                raise MediaError(path, "the file holds no audio frames (it is empty, truncated or damaged)")
            return AudioInfo(f.frames, int(f.samplerate), f.channels, f.format)
    except sf.LibsndfileError as exc:
        raise MediaError(path, _open_reason(path, exc)) from exc
    except (RuntimeError, ValueError, TypeError) as exc:
        raise MediaError(path, str(exc) or type(exc).__name__) from exc


def check_decoded_size(path: str | Path, frames: int, channels: int, stage: str = "decoded") -> None:
    """Raise `MediaError` naming ``path`` if ``frames`` × ``channels`` float32 samples exceed
    `MAX_DECODED_BYTES`; ``stage`` says what would make them (``"resampled to 48000 Hz"``)."""
    size = frames * channels * 4
    if size > MAX_DECODED_BYTES:
        shape = f"{frames} frames × {channels} channel{'s' if channels != 1 else ''} of float32"
        limit = _size(MAX_DECODED_BYTES)
        raise MediaError(path, f"{stage} it would take {_size(size)} ({shape}), more than the {limit} limit")


def _size(n: int) -> str:
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} bytes"


def _check_header(path: Path, f: sf.SoundFile, whole: bool = True) -> None:
    if not MIN_SAMPLE_RATE <= f.samplerate <= MAX_SAMPLE_RATE:
        raise MediaError(
            path,
            f"its header gives a sample rate of {f.samplerate} Hz, outside the {MIN_SAMPLE_RATE} to "
            f"{MAX_SAMPLE_RATE} Hz a source may have",
        )
    if f.frames == _UNKNOWN_LENGTH:  # soundfile reads only as far as the header says
        raise MediaError(path, "its header does not give its length (a stream of unknown length)")
    if whole:  # a file read piece by piece may be larger than memory
        check_decoded_size(path, f.frames, f.channels)


def _decode(path: Path, f: sf.SoundFile) -> np.ndarray:
    """Decode all of ``f`` to float32 ``(frames, channels)``.

    In one call: soundfile seeks after each read, and an MP3 decoder that seeks loses samples.
    """
    try:
        data = np.empty((f.frames, f.channels), dtype=np.float32)
    except MemoryError as exc:
        raise MediaError(path, f"not enough memory to decode it ({_size(f.frames * f.channels * 4)})") from exc
    try:
        got = f.read(out=data).shape[0]
    except sf.LibsndfileError as exc:
        raise MediaError(path, f"decoding its {f.frames} frames failed: {_reason(exc)}") from exc
    # libsndfile estimates an MP3's length; when fewer frames come, keep only those
    return data if got == f.frames else data[:got].copy()


#: What libsndfile says on opening a file whose header lies, and what mixtree says instead.
_HEADER_LIES = {
    "Channel count is zero.": "its header gives zero channels",
    "Too many channels specified.": "its header gives more channels than libsndfile reads (1024)",
    "Internal error : SF_INFO struct incomplete.": (
        "its header gives an impossible sample rate, channel count, length or format"
    ),
}


def _open_reason(path: Path, exc: sf.LibsndfileError) -> str:
    """Return why libsndfile could not open the regular file ``path``, in words that do not mislead."""
    riff = _riff_problem(path)
    if riff:
        return riff
    if exc.error_string in _HEADER_LIES:
        return _HEADER_LIES[exc.error_string]
    if exc.error_string.startswith("File does not exist or is not a regular file"):
        # libsndfile's MPEG decoder says this whenever mpg123 finds no frame it can decode
        if path.suffix.lower() == ".mp3":
            reason = "not a valid MP3 stream: no MPEG audio frame in it could be decoded"
        else:  # libsndfile took it for MPEG audio by its first bytes
            reason = "it starts like MPEG audio, but no MPEG audio frame in it could be decoded"
        detail = _open_log(path)
        return reason + (f" (libsndfile: {detail})" if detail else "")
    return _reason(exc)


#: The most bytes of a RIFF file's top level `_riff_problem` walks (its chunk headers only).
_RIFF_SCAN_BYTES = 1 << 20


def _riff_problem(path: Path) -> str:
    """Return what is wrong in the top-level chunks of a RIFF/RF64 WAVE file libsndfile
    refused (for which it may blame a chunk that is there), or ``""``."""
    try:
        with path.open("rb") as f:
            head = f.read(_RIFF_SCAN_BYTES)
    except OSError:
        return ""
    if head[:4] not in (b"RIFF", b"RF64") or head[8:12] != b"WAVE":
        return ""
    seen: dict[bytes, int] = {}
    at = 12
    while at + 8 <= len(head):
        tag = head[at : at + 4]
        size = int.from_bytes(head[at + 4 : at + 8], "little")
        seen[tag] = seen.get(tag, 0) + 1
        if tag == b"data":
            break  # the audio: what follows is not read here
        at += 8 + size + (size & 1)
    if seen.get(b"fmt ", 0) > 1:
        return f"{seen[b'fmt ']} 'fmt ' chunks before its audio: which format holds is ambiguous"
    return ""


#: libsndfile's command for its log, which after a failed open holds what went wrong.
_SFC_GET_LOG_INFO = 0x1001


def _open_log(path: Path) -> str:
    """Return the last line of libsndfile's log of a failed open of ``path``, or ``""``.

    The log is one for the whole process, so it is used only if it names ``path``.
    """
    buffer = sf._ffi.new("char[]", 4096)
    sf._snd.sf_command(sf._ffi.NULL, _SFC_GET_LOG_INFO, buffer, len(buffer))  # no public API for it
    lines = sf._ffi.string(buffer).decode(errors="replace").strip().splitlines()
    if not lines or lines[0] != f"File : {path}":
        return ""
    last = lines[-1].removesuffix(": No error... (code 0)").strip()  # mpg123 had no error to give
    return last[0].lower() + last[1:] if last and not last.startswith("Length :") else ""


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
        raise MediaError(path, f"cannot write: {_why_unwritable(Path(path), exc)}") from exc
    sf._snd.sf_command(f._file, _SFC_SET_ADD_PEAK_CHUNK, sf._ffi.NULL, 0)  # no public API for it
    return f


#: libsndfile's public error code for a failed system call.
_SF_ERR_SYSTEM = 2


def _why_unwritable(path: Path, exc: sf.LibsndfileError) -> str:
    """Return why libsndfile could not create ``path``: it says only "System error"."""
    folder = path.parent
    if path.is_dir():
        return "it is a folder"
    nearest = next((p for p in (folder, *folder.parents) if p.exists()), None)
    if nearest is not None and not nearest.is_dir():
        return f"'{nearest}' is a file, not a folder"
    if nearest != folder:
        return f"the folder '{folder}' does not exist"
    if path.exists() and not os.access(path, os.W_OK):
        return "the file is read-only"
    if not os.access(folder, os.W_OK):
        return f"no permission to write in the folder '{folder}'"
    if exc.code == _SF_ERR_SYSTEM:  # libsndfile keeps the system's reason aside
        text = sf._ffi.string(sf._snd.sf_strerror(sf._ffi.NULL)).decode(errors="replace")
        return text.removeprefix("System error : ").rstrip(".").lower() or _reason(exc)
    return _reason(exc)


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

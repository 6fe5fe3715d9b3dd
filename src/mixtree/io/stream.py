"""Read an audio file piece by piece at another rate: what a streamed source decodes from."""

from __future__ import annotations

import hashlib
import math
import os
from pathlib import Path

import numpy as np
import soundfile as sf
import soxr

from mixtree.dsp.downmix import fold_to_stereo
from mixtree.dsp.finite import zero_nonfinite
from mixtree.errors import MediaError
from mixtree.io.mpeg import gapless_header

#: Input frames a resampler is fed before the frame a seek asks for, so its filter has
#: history to work from (soxr's HQ filter is far shorter).
PRE_ROLL = 8192

#: Frames an MP3 is decoded from before the frame a seek asks for, then dropped: four
#: MPEG frames, so the bit reservoir and the synthesis filter bank are as a decode from
#: the start left them (two suffice in every file tried: a seek straight to the frame
#: gets its first few hundred samples wrong).
MP3_PRE_ROLL = 4 * 1152

#: The fewest bits a second of MPEG audio takes (MPEG-2.5 at 8 kbit/s): a header claiming
#: more frames than the file could hold at that rate lies.
MP3_MIN_BITRATE = 8000

_mp3_lengths: dict[tuple[str, int, int], int] = {}  # by (path, size, mtime): frames a decode gives


def exact_frames(path: str | Path) -> int:
    """Return the frames decoding ``path`` gives: its header's count, but for an MP3
    without a gapless header (whose length libsndfile only estimates), or whose header
    claims more than its bytes could hold, what decoding it forward once gives, cached
    until the file changes. Raises `MediaError` naming the file."""
    path = Path(path)
    try:
        stat = path.stat()
        with sf.SoundFile(str(path)) as f:
            if f.format != "MP3":
                return f.frames
            most = stat.st_size * 8 // MP3_MIN_BITRATE * f.samplerate + f.samplerate
            if f.frames <= most and gapless_header(path):
                return f.frames
            key = (str(path), stat.st_size, stat.st_mtime_ns)
            if key not in _mp3_lengths:
                buf = np.empty((1 << 16, f.channels), np.float32)
                frames = 0
                while (got := f.read(out=buf).shape[0]) > 0:
                    frames += got
                _mp3_lengths[key] = frames
            return _mp3_lengths[key]
    except (sf.LibsndfileError, RuntimeError, OSError) as exc:
        raise MediaError(path, f"cannot read it: {exc}") from exc


def file_stamp(path: str | Path) -> tuple[int, int]:
    """Return what says a file changed: its size and modification time (ns). Raises
    ``OSError`` as the system does."""
    st = os.stat(path)
    return st.st_size, st.st_mtime_ns


def resampled_frames(frames: int, rate: int, sample_rate: int) -> int:
    """Return the frames ``frames`` at ``rate`` make at ``sample_rate`` (soxr's length, rounded up)."""
    return frames if rate == sample_rate else -(-frames * sample_rate // rate)


class StreamReader:
    """Frames of one file, folded to at most stereo and resampled to ``sample_rate``.

    Reads that follow one another go on decoding (and resampling, with soxr's streaming
    resampler) where the last one stopped, so a file read front to back gives exactly
    what decoding it whole gives. A read elsewhere seeks: at the file's own rate
    exactly; resampled, the resampler starts `PRE_ROLL` input frames early on a frame
    where input and output frames line up, and agrees with a whole decode to within
    soxr's rounding (about 1e-6). An MP3 seeks `MP3_PRE_ROLL` frames early and drops
    them, so it too gives a whole decode's samples exactly. Not thread-safe: one reader
    per thread.
    """

    def __init__(
        self,
        path: str | Path,
        sample_rate: int,
        frames: int | None = None,
        stamp: tuple[int, int] | None = None,
        digest: str | None = None,
    ) -> None:
        self.path = Path(path)
        self.sample_rate = sample_rate
        # the file's `file_stamp` and sha256 when it was loaded: a read finding another
        # stamp (looked at once a second of audio, and at each seek) and other bytes fails
        self.stamp, self.digest = stamp, digest
        self._unchecked = 0  # frames read since the stamp was looked at
        self._file: sf.SoundFile | None = None
        self._open()
        f = self._file
        assert f is not None
        self.rate = f.samplerate
        self.file_frames = f.frames if frames is None else frames
        self.channels = min(f.channels, 2)
        self._pre_roll = MP3_PRE_ROLL if f.format == "MP3" else 0
        self._direct = f.channels == self.channels  # decoded straight into the caller's array
        self._at = 0  # the file frame the decoder stands at (-1: unknown), kept here: each
        # `tell` is a C call that hands the GIL over and back
        self.frames = resampled_frames(self.file_frames, self.rate, sample_rate)
        g = math.gcd(self.rate, sample_rate)
        self._in_step, self._out_step = self.rate // g, sample_rate // g
        self._next = -1  # the output frame the decoder stands at (-1: nowhere yet)
        self._resampler: soxr.ResampleStream | None = None
        self._pending = np.zeros((0, self.channels), np.float32)  # output made beyond the last read
        self._fed = 0  # input frames fed to the resampler

    def _open(self) -> None:
        try:
            self._file = sf.SoundFile(str(self.path))
        except FileNotFoundError:
            raise MediaError(self.path, "no such file") from None
        except (sf.LibsndfileError, OSError, RuntimeError) as exc:
            raise MediaError(self.path, f"cannot read it any more: {exc}") from exc

    def close(self) -> None:
        """Close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def read(self, start: int, out: np.ndarray) -> int:
        """Write the frames from ``start`` into ``out`` ``(n, channels)``; frames past the
        end are silence. Return how many frames came from the file.

        Raises `MediaError` if the file has gone, shrunk or cannot be decoded any more.
        """
        n = out.shape[0]
        end = min(start + n, self.frames)
        if start >= end or start < 0:
            out[...] = 0.0
            return 0
        if self.rate == self.sample_rate:
            got = self._decode(start, out[: end - start])
        else:
            got = self._resample(start, out[: end - start])
        out[got:] = 0.0
        if got < end - start:
            raise MediaError(self.path, f"it ends at frame {start + got}, not {self.frames}: truncated")
        return got

    def _raw(self, start: int, frames: int, out: np.ndarray | None = None) -> np.ndarray:
        # frames of the file at its own rate, folded to at most stereo, non-finite as
        # silence: decoded into ``out`` if given (a file of its channels), else a new array
        f = self._file
        if f is None:
            raise MediaError(self.path, "closed")
        moved = self._at != start
        if self.stamp is not None and (self._unchecked >= self.rate or moved):
            self._check()
        self._unchecked += frames
        try:
            if moved:
                self._at = -1
                early = max(0, start - self._pre_roll)
                f.seek(early)
                if early < start:
                    f.read(start - early, dtype="float32", always_2d=True)
            if out is not None:
                data = out[: f.buffer_read_into(out[:frames], "float32")]
            else:
                data = fold_to_stereo(f.read(frames, dtype="float32", always_2d=True))
        except (sf.LibsndfileError, RuntimeError, ValueError, OSError) as exc:
            self._at = -1
            raise MediaError(self.path, f"reading frames from {start} failed: {exc}") from exc
        self._at = start + data.shape[0]
        zero_nonfinite(data)
        return data

    def _check(self) -> None:
        # raise if the file was written over since it was loaded (a new stamp alone, a
        # file touched or copied back, is taken if its bytes are the same)
        self._unchecked = 0
        try:
            now = file_stamp(self.path)
        except OSError:
            raise MediaError(self.path, "the file is gone") from None
        if now == self.stamp:
            return
        if self.digest is not None:
            with open(self.path, "rb") as f:
                if hashlib.file_digest(f, "sha256").hexdigest() == self.digest:
                    self.stamp = now
                    return
        raise MediaError(self.path, "the file changed on disk since it was loaded")

    def _decode(self, start: int, out: np.ndarray) -> int:
        if self._direct and out.dtype == np.float32 and out.flags.c_contiguous:
            return self._raw(start, out.shape[0], out).shape[0]
        data = self._raw(start, out.shape[0])
        got = data.shape[0]
        out[:got] = data
        return got

    def _resample(self, start: int, out: np.ndarray) -> int:
        if start != self._next or self._resampler is None:
            self._seek(start)
        n = out.shape[0]
        done = 0
        while done < n:
            if self._pending.shape[0] == 0:
                if self._fed >= self.file_frames:
                    break
                chunk = min(8192, self.file_frames - self._fed)
                data = self._raw(self._fed, chunk)
                if data.shape[0] == 0:
                    break
                self._fed += data.shape[0]
                last = self._fed >= self.file_frames
                made = self._resampler.resample_chunk(data, last=last)  # type: ignore[union-attr]
                self._pending = np.asarray(made, np.float32).reshape(-1, self.channels)
                if self._skip:
                    drop = min(self._skip, self._pending.shape[0])
                    self._pending = self._pending[drop:]
                    self._skip -= drop
                continue
            k = min(n - done, self._pending.shape[0])
            out[done : done + k] = self._pending[:k]
            self._pending = self._pending[k:]
            done += k
        self._next = start + done
        return done

    def _seek(self, start: int) -> None:
        # restart the resampler on an input frame whose output frame is whole, early enough
        # that the filter has settled by ``start``
        first_in = start * self.rate // self.sample_rate - PRE_ROLL
        first_in = max(0, first_in // self._in_step * self._in_step)
        first_out = first_in // self._in_step * self._out_step
        self._resampler = soxr.ResampleStream(self.rate, self.sample_rate, self.channels, dtype="float32", quality="HQ")
        self._fed = first_in
        self._skip = start - first_out
        self._pending = np.zeros((0, self.channels), np.float32)

"""What an MP3 file says about its encoder delay (the silence an encoder puts in front)."""

from __future__ import annotations

from pathlib import Path

#: Samples an MP3 without a gapless header usually starts late by: LAME's encoder delay
#: (576) and the decoder's filter bank (529).
TYPICAL_DELAY = 1105


def gapless_header(path: str | Path) -> bool | None:
    """Return whether an MPEG audio file's first frame holds a Xing/Info header (where
    LAME and ffmpeg write the encoder delay and padding a decoder trims), or None if
    the file does not start with an MPEG audio frame after its ID3v2 tag."""
    with open(path, "rb") as f:
        head = f.read(10)
        start = 0
        if head[:3] == b"ID3" and len(head) == 10:
            # the tag's size is four 7-bit bytes; a footer adds ten more
            size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
            start = 10 + size + (10 if head[5] & 0x10 else 0)
        f.seek(start)
        frame = f.read(4096)
    if len(frame) < 4 or frame[0] != 0xFF or frame[1] & 0xE0 != 0xE0:
        return None
    return b"Xing" in frame[:200] or b"Info" in frame[:200]

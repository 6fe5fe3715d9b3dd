"""What an MP3 file says about its encoder delay (the silence an encoder puts in front)."""

from __future__ import annotations

from pathlib import Path

#: Samples an MP3 without a gapless header usually starts late by: LAME's encoder delay
#: (576) and the decoder's filter bank (529).
TYPICAL_DELAY = 1105


def gapless_header(path: str | Path) -> bool | None:
    """Return whether an MP3's first frame holds an encoder tag that gives its delay and
    padding (LAME's, or ffmpeg's in the same place, after a Xing/Info header), which the
    decoder trims; None if no MPEG audio frame starts within 4 KiB after the ID3v2 tag."""
    with open(path, "rb") as f:
        head = f.read(10)
        start = 0
        if head[:3] == b"ID3" and len(head) == 10:
            # the tag's size is four 7-bit bytes; a footer adds ten more
            size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
            start = 10 + size + (10 if head[5] & 0x10 else 0)
        f.seek(start)
        chunk = f.read(4096)
    sync = next((i for i in range(len(chunk) - 3) if chunk[i] == 0xFF and chunk[i + 1] & 0xE0 == 0xE0), None)
    if sync is None:
        return None
    frame = chunk[sync : sync + 400]
    xing = max(frame.find(b"Xing"), frame.find(b"Info"))
    return xing >= 0 and any(tag in frame[xing:] for tag in (b"LAME", b"Lavc", b"Lavf", b"GOGO"))

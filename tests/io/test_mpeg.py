import numpy as np
import soundfile as sf

from mixtree.io.mpeg import gapless_header


def id3v2(size: int, footer: bool = False) -> bytes:
    """An ID3v2.4 tag of ``size`` bytes after its header (sizes are four 7-bit bytes)."""
    syncsafe = bytes((size >> shift) & 0x7F for shift in (21, 14, 7, 0))
    flags = 0x10 if footer else 0
    return b"ID3\x04\x00" + bytes([flags]) + syncsafe + b"\x00" * size + (b"3DI" + b"\x00" * 7 if footer else b"")


def test_finds_the_encoder_tag_behind_an_id3_tag_of_any_size_and_padding(tmp_path):
    sf.write(str(tmp_path / "a.mp3"), np.zeros((4410, 1), np.float32), 44100)
    mp3 = (tmp_path / "a.mp3").read_bytes()
    assert gapless_header(tmp_path / "a.mp3") is True
    for size, footer in ((0, False), (300, False), (200_000, False), (1000, True)):
        (tmp_path / "t.mp3").write_bytes(id3v2(size, footer) + mp3)
        assert gapless_header(tmp_path / "t.mp3") is True, (size, footer)
    (tmp_path / "p.mp3").write_bytes(id3v2(100) + b"\x00" * 300 + mp3)  # padding before the first frame
    assert gapless_header(tmp_path / "p.mp3") is True
    # the same frames without the header, or with a Xing header but no encoder tag
    for marker in (b"Xing" if b"Xing" in mp3 else b"Info", b"LAME"):
        at = mp3.index(marker)
        (tmp_path / "b.mp3").write_bytes(mp3[:at] + b"XXXX" + mp3[at + 4 :])
        assert gapless_header(tmp_path / "b.mp3") is False, marker


def test_other_files_are_not_mpeg_audio(tmp_path):
    sf.write(str(tmp_path / "a.wav"), np.zeros((10, 1), np.float32), 44100)
    (tmp_path / "short").write_bytes(b"\xff")
    (tmp_path / "tag-only").write_bytes(id3v2(20))
    for name in ("a.wav", "short", "tag-only"):
        assert gapless_header(tmp_path / name) is None

import json
import subprocess
import sys

import numpy as np
import pytest
import soundfile as sf

import mixtree as mt
from mixtree.cli.main import main


def test_demo_builds_saves_and_renders_what_the_api_renders(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    project = mt.Project.load(tmp_path / "demo.json")
    assert f"{len(project.tracks)} tracks" in out and "rendered" in out
    mix, rate = sf.read(str(tmp_path / "demo.wav"), dtype="float32")
    assert rate == 48000
    assert np.array_equal(mix, project.render())
    assert 0.05 < np.abs(mix).max() <= 1.0
    # the pad is a stereo 44.1 kHz file; the drums mono 48 kHz
    assert {s.original_rate for s in project.pool} == {44100, 48000}
    assert {s.channels for s in project.pool} == {1, 2}


def test_render_reproduces_the_api_over_a_range(tmp_path):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    out = tmp_path / "part.flac"
    assert (
        main(
            [
                "render",
                str(tmp_path / "demo.json"),
                "-o",
                str(out),
                "--start",
                "1",
                "--end",
                "3.5",
                "--format",
                "24",
            ]
        )
        == 0
    )
    data, _ = sf.read(str(out), dtype="float32")
    expected = mt.Project.load(tmp_path / "demo.json").render(1.0, 2.5)
    assert data.shape == expected.shape
    assert np.abs(data - expected).max() <= 2.0**-23


def test_stems_are_the_demo_split_by_top_level_track(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    out = tmp_path / "stems"
    assert main(["stems", str(tmp_path / "demo.json"), "-o", str(out), "--end", "4", "--type", "flac"]) == 0
    project = mt.Project.load(tmp_path / "demo.json")
    files = sorted(out.iterdir())
    assert len(files) == len(project.top_tracks) and all(f.suffix == ".flac" for f in files)
    total = sum(sf.read(str(f), dtype="float32")[0] for f in files)
    assert np.allclose(total, project.render(0.0, 4.0), atol=1e-4)  # 24-bit files
    assert "rendered" in capsys.readouterr().out


def test_bounce_renders_a_track_into_the_saved_project(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    before = mt.Project.load(tmp_path / "demo.json")
    assert main(["bounce", str(tmp_path / "demo.json"), "Bass", "-o", str(tmp_path / "b.json")]) == 0
    after = mt.Project.load(tmp_path / "b.json")
    names = [t.name for t in after.tracks]
    assert "Bass (bounce)" in names and next(t for t in after.tracks if t.name == "Bass").mute
    assert np.allclose(after.render(0.0, before.duration), before.render(), atol=1e-6)
    assert "bounced 'Bass'" in capsys.readouterr().out
    assert main(["bounce", str(tmp_path / "demo.json"), "Nope"]) == 1
    assert main(["bounce", str(tmp_path / "demo.json"), f"#{after.master.id}"]) == 1
    assert main(["bounce", str(tmp_path / "demo.json"), f"#{after.tracks[0].id}"]) == 0


def test_bounce_refuses_a_track_whose_media_are_offline(tmp_path, capsys):
    assert main(["demo", "-o", str(tmp_path)]) == 0
    project = mt.Project.load(tmp_path / "demo.json")
    kick = next(t for t in project.tracks if t.name == "Kick")
    kick.clips[0].source.path.unlink()
    saved = (tmp_path / "demo.json").read_bytes()
    with pytest.warns(mt.MediaWarning, match="offline media"):
        assert main(["bounce", str(tmp_path / "demo.json"), "Kick"]) == 1
    assert "offline" in capsys.readouterr().err
    assert (tmp_path / "demo.json").read_bytes() == saved  # nothing the user had is lost


def test_info_lists_tracks_and_sources(tmp_path, capsys):
    main(["demo", "-o", str(tmp_path)])
    capsys.readouterr()
    assert main(["info", str(tmp_path / "demo.json")]) == 0
    out = capsys.readouterr().out
    assert "48000 Hz" in out and "Kick" in out and "pad.wav" in out and "44100 Hz" in out
    assert "speed of 'Drums': read, 2 points, 20..21 s" in out and "freq of Filter on 'Pad'" in out


def test_errors_are_one_line_and_a_nonzero_exit(tmp_path):
    (tmp_path / "bad.json").write_text(json.dumps({"format": "mixtree-project", "version": 99}))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "mixtree.cli.main",
            "render",
            str(tmp_path / "bad.json"),
            "-o",
            str(tmp_path / "x.wav"),
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "newer mixtree" in result.stderr and "Traceback" not in result.stderr


def test_end_before_start_is_refused(tmp_path, capsys):
    main(["demo", "-o", str(tmp_path)])
    code = main(
        [
            "render",
            str(tmp_path / "demo.json"),
            "-o",
            str(tmp_path / "x.wav"),
            "--start",
            "3",
            "--end",
            "1",
        ]
    )
    assert code == 1
    assert "--end 1 s is before --start 3 s" in capsys.readouterr().err


def test_render_with_a_pool_budget_streams_and_gives_the_same_file(tmp_path):
    audio = (np.random.default_rng(2).standard_normal((48000, 2)) * 0.1).astype(np.float32)
    sf.write(str(tmp_path / "a.wav"), audio, 48000, subtype="FLOAT")
    p = mt.Project()
    p.add_audio_track("a").add_clip(p.pool.load(tmp_path / "a.wav"), start=0.5)
    p.save(tmp_path / "song.json")
    song = str(tmp_path / "song.json")
    assert main(["render", song, "-o", str(tmp_path / "memory.wav")]) == 0
    assert main(["render", song, "-o", str(tmp_path / "streamed.wav"), "--pool-budget", "0"]) == 0
    memory, _ = sf.read(str(tmp_path / "memory.wav"), dtype="float32")
    streamed, _ = sf.read(str(tmp_path / "streamed.wav"), dtype="float32")
    assert np.array_equal(memory, streamed) and np.abs(memory).max() > 0.1


def test_render_and_stems_on_two_threads_write_what_one_thread_writes(tmp_path):
    from mixtree import effects as fx

    audio = (np.random.default_rng(3).standard_normal((48000, 2)) * 0.1).astype(np.float32)
    sf.write(str(tmp_path / "a.wav"), audio, 48000, subtype="FLOAT")
    p = mt.Project()
    src = p.pool.load(tmp_path / "a.wav")
    for k in range(6):
        t = p.add_audio_track(f"t{k}")
        t.add_clip(src, start=0.1 * k)
        t.add_effect(fx.Compressor(threshold_db=-20.0 - k))
        t.add_effect(fx.EQ3(low_db=k - 3.0))
    song = str(p.save(tmp_path / "song.json"))
    for n in ("1", "2"):
        assert main(["render", song, "-o", str(tmp_path / f"mix{n}.wav"), "--threads", n]) == 0
        assert main(["stems", song, "-o", str(tmp_path / f"stems{n}"), "--threads", n]) == 0
    assert (tmp_path / "mix1.wav").read_bytes() == (tmp_path / "mix2.wav").read_bytes()
    for one in sorted((tmp_path / "stems1").iterdir()):
        assert one.read_bytes() == (tmp_path / "stems2" / one.name).read_bytes()

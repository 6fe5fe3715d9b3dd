import sys

import pytest

from mixtree.cli.play import clock, meter_bar, parse_keys


def test_keys_map_to_transport_actions():
    assert parse_keys(" ") == ["toggle"]
    assert parse_keys("\x1b[D\x1b[C") == ["back", "forward"]
    assert parse_keys("\x1b[H\x1b[1~\x1bOH") == ["home"] * 3
    assert parse_keys("xlq") == ["loop", "quit"]


def test_meter_and_clock_read_as_a_musician_expects():
    assert meter_bar(1.0, 10) == "#" * 10
    assert meter_bar(0.0, 10) == "-" * 10
    assert meter_bar(10 ** (-30 / 20), 10) == "#" * 5 + "-" * 5
    assert clock(75.5) == "01:15.500"


def test_play_runs_a_terminal_transport_in_a_pseudo_terminal(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    from mixtree.cli.main import main

    assert main(["demo", "-o", str(tmp_path)]) == 0
    child = pexpect.spawn(
        sys.executable,
        ["-m", "mixtree.cli.main", "play", str(tmp_path / "demo.json"), "--driver", "null"],
        timeout=30,
        encoding="utf-8",
        dimensions=(24, 160),
    )
    child.expect("q quit")
    child.expect("paused")
    child.send(" ")
    child.expect(r"playing 00:00\.[1-9]")
    child.send("\x1b[C")
    child.expect(r"playing 00:0[5-9]\.")
    child.send("l")
    child.expect("loop on")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0


def test_the_screen_shows_while_the_engine_starts_and_keys_typed_meanwhile_wait_for_it(tmp_path):
    pexpect = pytest.importorskip("pexpect")
    from mixtree.cli.main import main

    assert main(["demo", "-o", str(tmp_path)]) == 0
    argv = ["-m", "mixtree.cli.main", "play", str(tmp_path / "demo.json"), "--driver", "null"]
    child = pexpect.spawn(sys.executable, argv, timeout=30, encoding="utf-8", dimensions=(24, 160))
    child.expect(r"starting \(loading the compiled kernels\)")
    child.send(" ")  # typed before the engine is ready: it plays once it is
    child.expect("playing through null")
    child.expect(r"playing 00:00\.[1-9]")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    # quitting while it starts closes the engine unplayed
    child = pexpect.spawn(sys.executable, argv, timeout=30, encoding="utf-8", dimensions=(24, 160))
    child.expect("starting")
    child.send("q")
    child.expect(pexpect.EOF)
    child.close()
    assert child.exitstatus == 0
    assert "playing through" not in child.before

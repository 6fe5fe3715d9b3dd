"""The fuzzers' quick mode (``python -m fuzz --quick``): seeded inputs to every loader keep its property."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fuzz.__main__ import QUICK_INPUTS
from fuzz.engines import run_mutator
from fuzz.mutate import json_mutator, mutate_bytes, zip_mutator
from fuzz.targets import PropertyViolation, Target, check, targets


def test_every_loader_keeps_its_property_for_the_quick_seeded_inputs(tmp_path: Path) -> None:
    known = targets()
    results = run_mutator(list(known), {n: t.suffix for n, t in known.items()}, tmp_path, inputs=QUICK_INPUTS)
    assert [r.target for r in results] == list(known)
    for result in results:
        assert result.failures == [], result.failures
        assert result.inputs == QUICK_INPUTS


def test_an_undocumented_exception_breaks_the_property(tmp_path: Path) -> None:
    def load(path: Path) -> None:
        raise KeyError("x")

    target = Target("t", ".bin", load, (ValueError,), lambda scratch, system: [b""])
    with pytest.raises(PropertyViolation, match="undocumented KeyError"):
        check(target, b"abc", tmp_path)


def test_a_documented_error_that_does_not_name_the_file_breaks_the_property(tmp_path: Path) -> None:
    def load(path: Path) -> None:
        raise ValueError("bad")

    target = Target("t", ".bin", load, (ValueError,), lambda scratch, system: [b""])
    with pytest.raises(PropertyViolation, match="does not name the file"):
        check(target, b"abc", tmp_path)


def test_mutations_are_seeded_and_keep_structured_inputs_parseable(tmp_path: Path) -> None:
    data = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(40)
    assert mutate_bytes(data, random.Random(3), []) == mutate_bytes(data, random.Random(3), [])
    doc = b'{"a": [1, 2, {"b": 3}]}'
    outs = {json_mutator(doc, random.Random(k), []) for k in range(20)}
    assert len(outs) > 5
    zipped = targets()["dawproject"].seeds(tmp_path, False)[1]
    assert zip_mutator("project.xml")(zipped, random.Random(1), []).startswith(b"PK")


def test_a_message_target_breaks_the_property_only_with_an_undocumented_exception(tmp_path: Path) -> None:
    def feed(data: bytes, folder: Path) -> None:
        if data == b"bad":
            raise TypeError("deep inside")

    target = Target("m", ".msg", lambda path: None, (), lambda scratch, system: [b""], feed=feed)
    check(target, b"fine", tmp_path)
    with pytest.raises(PropertyViolation, match="undocumented TypeError: deep inside"):
        check(target, b"bad", tmp_path)


def test_osc_inputs_are_real_datagrams_and_mutations_reach_every_address() -> None:
    from fuzz.messages import OSC_ADDRESSES, osc_mutator, osc_seeds
    from pythonosc.osc_packet import OscPacket

    seeds = osc_seeds(Path("."), False)
    parsed = [m.message.address for s in seeds for m in OscPacket(s).messages]
    assert set(parsed) == set(OSC_ADDRESSES)
    rng = random.Random(4)
    addresses = set()
    for _ in range(400):
        try:
            addresses |= {m.message.address for m in OscPacket(osc_mutator(seeds[0], rng, seeds)).messages}
        except Exception:  # a byte-level mutation need not parse
            pass
    assert set(OSC_ADDRESSES) <= addresses

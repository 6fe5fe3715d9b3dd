"""Parameter addresses a batch job sets: ``"Drums.volume_db"``, ``"Verb.mix"``, ``"#12.mix"``.

A job names parameters the way people read a mixer, by track name, and resolves each
name to the automation address (`mixtree.model.automation.Address`: the owner's id and
the parameter's name) that automation, live setters and remote control use:

``Track.param``
    a track's ``volume_db``, ``pan``, ``mute`` (a metatrack's ``speed`` too), or else the
    parameter of that id in its instrument or chain (which must hold it once);
``Track.Effect.param``
    the effect in the chain whose class name is ``Effect`` (case-insensitive), or whose
    place in the chain is ``Effect`` (``"Drums.0.freq"``); ``instrument`` is a MIDI
    track's instrument;
``Track->Bus.level_db``
    the level of the send from ``Track`` to the bus ``Bus``;
``#id.param``
    an owner (track, send or effect) by id, or an `Address` itself.

A track name may hold dots: the longest name that matches wins. ``Master`` is the master.
"""

from __future__ import annotations

from typing import Any

from mixtree.effects.base import Effect
from mixtree.model.automation import Address, spec_for
from mixtree.model.project import Project
from mixtree.model.tracks import MidiTrack, Send, Track

#: What names a parameter: ``"Track.param"`` and its kin (see the module), or an `Address`.
AddressLike = str | Address | tuple[int, str]


def _tracks_named(project: Project, name: str) -> list[Track]:
    return [t for t in [project.master, *project.tracks] if t.name == name]


def _split_track(project: Project, address: str) -> tuple[Track, str]:
    parts = address.split(".")
    for cut in range(len(parts) - 1, 0, -1):  # the longest track name first
        name, rest = ".".join(parts[:cut]), ".".join(parts[cut:])
        head, arrow, _ = name.partition("->")
        named = _tracks_named(project, head if arrow else name)
        if len(named) > 1:
            raise ValueError(f"{address!r}: more than one track is called {name!r} (address it by id: '#id.param')")
        if named:
            return named[0], (name[len(head) :] + "." + rest if arrow else rest)
    names = ", ".join(repr(t.name) for t in project.tracks)
    raise ValueError(f"{address!r} names no track (a parameter is 'Track.param'; tracks: {names})")


def _chain(track: Track) -> list[Effect]:
    instrument = [track.instrument] if isinstance(track, MidiTrack) else []
    return [*instrument, *track.effects]


def _effect(track: Track, key: str, address: str) -> Effect:
    chain = track.effects
    if key.isdigit():
        if int(key) < len(chain):
            return chain[int(key)]
        raise ValueError(f"{address!r}: {track.name!r} has {len(chain)} effects, no effect {key}")
    if key == "instrument" and isinstance(track, MidiTrack):
        return track.instrument
    found = [e for e in _chain(track) if type(e).__name__.lower() == key.lower()]
    if len(found) == 1:
        return found[0]
    kinds = ", ".join(type(e).__name__ for e in _chain(track)) or "none"
    problem = f"more than one {key} is" if found else f"no {key} is"
    raise ValueError(f"{address!r}: {problem} on {track.name!r} (address one by its place: 'Track.0.param'; {kinds})")


def _owner(project: Project, address: str) -> tuple[Track | Send | Effect, str]:
    track, rest = _split_track(project, address)
    if rest.startswith("->"):
        bus_name, _, name = rest[2:].rpartition(".")
        sends = [s for s in track.sends if project.track(s.bus_id).name == bus_name]
        if len(sends) != 1:
            raise ValueError(f"{address!r}: {track.name!r} has no send to a bus called {bus_name!r}")
        return sends[0], name
    if "." in rest:
        key, _, name = rest.rpartition(".")
        return _effect(track, key, address), name
    try:
        spec_for(project, track, rest)
        return track, rest
    except ValueError:
        pass
    holders = [e for e in _chain(track) if any(p.id == rest for p in e.parameters)]
    if len(holders) == 1:
        return holders[0], rest
    if holders:
        raise ValueError(
            f"{address!r}: more than one effect on {track.name!r} has {rest!r} (say which: 'Track.Effect.{rest}')"
        )
    spec_for(project, track, rest)  # raises, naming what the track has
    raise AssertionError("unreachable")


def resolve(project: Project, address: AddressLike) -> Address:
    """Return the automation address of the parameter ``address`` names in ``project``.

    Raises ``ValueError`` naming the address and what it could have named.
    """
    if isinstance(address, tuple):
        owner_id, name = address
        owner = project.registry.lane_owner(owner_id)
    elif address.startswith("#") and "." in address and address[1:].partition(".")[0].isdigit():
        ident, _, name = address[1:].partition(".")
        owner = project.registry.lane_owner(int(ident))
    else:
        owner, name = _owner(project, address)
    spec_for(project, owner, name)  # raises ValueError if it cannot be automated, so not addressed
    return Address(owner.id, name)  # type: ignore[arg-type]


def set_parameter(project: Project, address: AddressLike, value: Any) -> None:
    """Set the parameter ``address`` names to ``value`` (its unit; a choice by name).

    A lane that automates the parameter is switched off, so ``value`` holds for the whole
    render. Raises ``ValueError`` for an unknown address or a value out of range.
    """
    where = resolve(project, address)
    owner = project.registry.lane_owner(where.owner)
    spec, label = spec_for(project, owner, where.name)
    try:
        checked = spec.check(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{address!r} ({label}): {exc}") from None
    lane = owner.lanes.get(where.name)
    if lane is not None and lane.plays:
        lane.mode = "off"
    if isinstance(owner, Effect):
        owner.set_parameter(where.name, value)
    elif where.name == "mute":
        owner.mute = bool(checked)
    else:
        setattr(owner, where.name, checked)

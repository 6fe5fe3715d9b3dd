"""Reading DAWproject devices: mixtree's own (from their saved state), Equalizer and
Compressor (mapped onto EQ3 and Compressor where the units allow), and the parameter
ids automation targets; with the element helpers every DAWproject reader shares."""

from __future__ import annotations

import json
import math
from collections import Counter
from dataclasses import dataclass
from typing import Any
from xml.etree.ElementTree import Element

from mixtree.effects.base import Effect
from mixtree.effects.compressor import Compressor
from mixtree.effects.filters import EQ3
from mixtree.effects.offline import OfflineEffect
from mixtree.errors import MixtreeError, ProjectFileError
from mixtree.exchange.archive import Archive
from mixtree.exchange.plugins import vst3_named
from mixtree.model.project import Project
from mixtree.model.tracks import MidiTrack, Track


@dataclass
class Param:
    """What a DAWproject parameter id stands for: ``owner``'s (a track, send or effect)
    parameter ``name``, of ``kind`` db, pan, bool, real or enum, in ``unit``."""

    owner: Any
    name: str
    kind: str
    unit: str = ""


class DeviceReading:
    """Element helpers and device reading, for a reader with ``project``, ``archive``,
    ``lost`` and ``params``."""

    project: Project
    archive: Archive
    lost: Counter[str]
    params: dict[str, Param]

    def where(self, el: Element) -> str:
        """Return how messages name ``el`` (its tag and id)."""
        ident = el.get("id")
        return f"<{el.tag}{f' id={ident!r}' if ident else ''}>"

    def fail(self, el: Element, reason: str) -> ProjectFileError:
        """Return the `ProjectFileError` for a problem at ``el``."""
        return ProjectFileError(self.archive.path, f"entry 'project.xml' {self.where(el)}", reason)

    def number(self, el: Element, name: str, default: float | None = None) -> float:
        """Return ``el``'s attribute ``name`` as a number (``default`` when absent; else required)."""
        text = el.get(name)
        if text is None:
            if default is None:
                raise self.fail(el, f"the attribute {name!r} is missing")
            return default
        try:
            value = float(text)
        except ValueError:
            raise self.fail(el, f"{name}={text!r} is not a number") from None
        if math.isnan(value):
            raise self.fail(el, f"{name} is not a number (NaN)")
        return value

    def flag(self, el: Element | None, name: str = "value", default: bool = False) -> bool:
        """Return ``el``'s boolean attribute ``name`` (``default`` when the element or attribute is absent)."""
        if el is None or el.get(name) is None:
            return default
        text = el.get(name, "")
        if text not in ("true", "false", "1", "0"):
            raise self.fail(el, f"{name}={text!r} is not true or false")
        return text in ("true", "1")

    def edit(self, el: Element, action: Any) -> Any:
        """Run one model edit; a value the model refuses names the element."""
        try:
            return action()
        except ValueError as exc:
            if isinstance(exc, MixtreeError):
                raise
            raise self.fail(el, str(exc)) from exc

    def param(self, el: Element, owner: Any, name: str, kind: str) -> None:
        """Remember that the parameter element ``el`` stands for ``owner``'s ``name``."""
        if el.get("id"):
            self.params[el.get("id", "")] = Param(owner, name, kind, el.get("unit", ""))

    def effect_of(self, el: Element) -> Effect | None:
        """Return the effect a device element describes, or None (counted as lost)."""
        role = el.get("deviceRole", "audioFX")
        state = self.mixtree_state(el)
        effect: Effect | None = None
        if state is not None:
            try:
                effect = Effect.from_state(state)
            except (ValueError, TypeError, KeyError, OSError, MixtreeError) as exc:
                effect = OfflineEffect(state, instrument=role == "instrument", reason=str(exc))
                self.lost[f"{el.tag} devices offline here ({exc})"] += 1
        elif el.tag == "Equalizer":
            effect = self.equalizer(el)
        elif el.tag == "Compressor":
            effect = self.compressor(el)
        elif el.tag == "Vst3Plugin":
            effect = vst3_named(el.get("deviceName", ""))
            if effect is not None:
                self.lost[
                    f"Vst3Plugin devices loaded at their defaults, their state not read ({el.get('deviceName')})"
                ] += 1
        if effect is None:
            played = " (their MIDI tracks play the PolySynth)" if role == "instrument" else ""
            self.lost[f"{el.tag} {'instrument' if role == 'instrument' else 'device'}s dropped{played}"] += 1
            return None
        if not self.flag(el.find("Enabled"), default=True):
            effect.bypass = True
        return effect

    def instrument(self, channel: Element | None) -> tuple[Effect | None, Element | None]:
        """Return a MIDI track's instrument and its element, from its channel's devices."""
        devices = channel.find("Devices") if channel is not None else None
        for el in devices if devices is not None else []:
            if el.get("deviceRole") == "instrument":
                effect = self.effect_of(el)
                if effect is not None and not getattr(effect, "is_instrument", False):
                    self.lost["instruments that are effects here dropped"] += 1
                    effect = None
                return effect, el
        return None, None

    def device(self, el: Element, track: Track) -> None:
        """Add the effect a device element describes to ``track``'s chain (or count it lost)."""
        if el.get("deviceRole") == "instrument":
            if not isinstance(track, MidiTrack):
                self.lost[f"{el.tag} instruments on tracks without notes dropped"] += 1
            return  # a MIDI track's instrument was made with the track
        effect = self.effect_of(el)
        if effect is None:
            return
        if getattr(effect, "is_instrument", False):
            self.lost["instruments placed as effects dropped"] += 1
            return
        self.edit(el, lambda: track.add_effect(effect))
        self.device_params(el, effect)

    def device_params(self, el: Element, effect: Effect) -> None:
        """Remember the parameter ids of ``effect``'s ``Parameters``, for automation."""
        if isinstance(effect, OfflineEffect):
            return
        known = {p.id: p for p in effect.parameters}
        params = el.find("Parameters")
        for p in params if params is not None else []:
            name = p.get("name", "")
            if name in known:
                self.param(p, effect, name, "enum" if known[name].choices else "real")

    def mixtree_state(self, el: Element) -> dict[str, Any] | None:
        """Return the saved state mixtree wrote for a device, or None for a foreign one."""
        state = el.find("State")
        path = state.get("path", "") if state is not None else ""
        if not path.startswith("mixtree/") or path not in self.archive:
            return None
        try:
            doc = json.loads(self.archive.read(path).decode("utf-8"))
        except (UnicodeDecodeError, ValueError) as exc:
            raise ProjectFileError(self.archive.path, f"entry {path!r}", f"not valid JSON: {exc}") from exc
        return doc if isinstance(doc, dict) and isinstance(doc.get("type"), str) else None

    def equalizer(self, el: Element) -> Effect | None:
        """Return the EQ3 a three-band Equalizer (low shelf, bell, high shelf) maps to, or None."""
        bands = {b.get("type"): b for b in el.findall("Band")}
        if len(bands) != 3 or set(bands) != {"lowShelf", "bell", "highShelf"} or not self._unity(el):
            return None

        def value(band: Element, tag: str, default: float) -> float:
            sub = band.find(tag)
            return self.number(sub, "value") if sub is not None else default

        try:
            return EQ3(
                low_db=value(bands["lowShelf"], "Gain", 0.0),
                mid_db=value(bands["bell"], "Gain", 0.0),
                high_db=value(bands["highShelf"], "Gain", 0.0),
                low_freq=value(bands["lowShelf"], "Freq", 250.0),
                high_freq=value(bands["highShelf"], "Freq", 4000.0),
            )
        except ValueError:
            return None

    def compressor(self, el: Element) -> Effect | None:
        """Return the Compressor a DAWproject Compressor maps to, or None."""
        if self.flag(el.find("AutoMakeup")) or not self._unity(el, ("InputGain",)):
            return None
        values: dict[str, float] = {}
        for tag, name in (
            ("Threshold", "threshold_db"),
            ("Ratio", "ratio"),
            ("Attack", "attack"),
            ("Release", "release"),
            ("OutputGain", "makeup_db"),
        ):
            sub = el.find(tag)
            if sub is not None and sub.get("value") is not None:
                values[name] = self.number(sub, "value")
        try:
            return Compressor(**values)
        except ValueError:
            return None

    def _unity(self, el: Element, tags: tuple[str, ...] = ("InputGain", "OutputGain")) -> bool:
        for tag in tags:
            sub = el.find(tag)
            if sub is not None and self.number(sub, "value", 0.0) != 0.0:
                return False
        return True

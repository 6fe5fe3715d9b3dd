"""Host VST3 plugins through pedalboard (JUCE's VST3 host).

`list_vst3` names the plugins a ``.vst3`` bundle holds; `Vst3Plugin` loads one of them as
a `PluginInstance`. pedalboard shows a plugin as normalised (0–1) parameter values with
the plugin's text for any value, an opaque state blob and a ``process`` call; this host
builds parameters in the plugin's own units from that text and gives raw, uncompensated
streaming on top of ``process``.

Latency: pedalboard counts the frames a plugin has processed since its last reset and
drops the first ``latency`` of them, so a streamed block can come back short; a call with
``reset=True`` also runs ``latency`` more frames of silence to flush the plugin. With one
pedalboard block per call the frames it returns are always the block's last ones:
`Vst3Plugin.process` writes them there and silence before them. That is the plugin's raw
output, delayed by its reported latency, whenever the plugin is silent for its first
``latency`` frames after a reset (what reporting a latency means); it matters when the
latency grows past the frames processed so far. `Vst3Plugin.activate` resets the plugin
and runs ``max_block`` frames of silence through it: pedalboard prepares a plugin for the
longest block it has seen, and preparing it again mid-stream would restart the plugin.

Threads: the constructor, `Vst3Plugin.activate`, `Vst3Plugin.save_state`,
`Vst3Plugin.load_state` and `Vst3Plugin.close` are control-side; JUCE makes plugins on its
message thread only, the thread that loaded the first of the VST3 plugins open, so every
constructor runs there. `Vst3Plugin.process` and `Vst3Plugin.set_parameter` may run on the
audio thread, but pedalboard allocates its own arrays on every process call.
"""

from __future__ import annotations

import contextlib
import math
import re
import struct
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from mixtree.effects.parameters import Parameter
from mixtree.effects.plugins.base import MidiBlock, PluginInfo, kept_fp_env
from mixtree.errors import PluginError

__all__ = ["Vst3Plugin", "list_vst3"]

#: Most values a stepped parameter may have to be offered as named choices.
MAX_CHOICES = 32

_STATE_MAGIC = b"mixtree-vst3-state\x00"
_JUCE_MAGIC = b"VC2!"  # JUCE's binary XML: the magic, then the text's length (uint32 LE)
_F32 = np.dtype(np.float32)
_CONTINUOUS = 0x7FFFFFFF  # JUCE's step count for a continuous parameter
_PROBE = 64  # frames of the call that learns a plugin's channels
# Parameters that are not the plugin's own, by name, as JUCE hides VST3's hidden and
# program-change flags: MIDI controllers in disguise (VST3 has no MIDI CC input; DPF makes
# 2080 "MIDI Ch. 1 CC 7", JUCE plugins "MIDI CC 7") and the program selector, which would
# undo the other values whenever they are set together.
_NOT_OWN = re.compile(r"MIDI (Ch\. \d+ )?CC \d+$|(Current )?Programs?$")

_load_lock = threading.Lock()


@contextlib.contextmanager
def _without_parameter_scan() -> Iterator[None]:
    """Skip pedalboard's wrapping of every parameter while a plugin loads.

    pedalboard's constructor sets initial parameter values through its Python mixin,
    which first wraps every parameter by reading its text at 1001 values: 30 s for a
    plugin with 2080 parameters. Loading with no values to set needs none of it. The
    mixin is patched for the duration of the load only (another thread's pedalboard load
    with ``parameter_values`` at that moment would lose them).
    """
    import pedalboard

    owner = next((c for c in type.mro(pedalboard.VST3Plugin) if "__set_initial_parameter_values__" in vars(c)), None)
    with _load_lock:
        if owner is None:
            yield
            return
        original = vars(owner)["__set_initial_parameter_values__"]
        owner.__set_initial_parameter_values__ = lambda self, values: None
        try:
            yield
        finally:
            owner.__set_initial_parameter_values__ = original


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "param"


def _number(text: str, unit: str) -> float | None:
    """Return the number a parameter's text shows (its unit stripped), None if none."""
    t = text.strip()
    if unit and t.endswith(unit):
        t = t[: -len(unit)].strip()
    for candidate in (t, t.split(" ", 1)[0]):
        try:
            value = float(candidate)
        except ValueError:
            continue
        return value if math.isfinite(value) else None
    return None


@dataclass(frozen=True, slots=True)
class _Map:
    """How one parameter's values map to pedalboard's raw (0–1) values.

    ``kind``: ``linear`` or ``log`` between ``lo`` (raw 0) and ``hi`` (raw 1), ``table``
    (``points`` raw values, ``values`` there, piecewise linear), ``choice`` (an index over
    ``steps`` values) or ``raw`` (the 0–1 value itself). ``steps`` > 0 snaps to that many
    values.
    """

    kind: str
    lo: float = 0.0
    hi: float = 1.0
    steps: int = 0
    points: np.ndarray | None = None
    values: np.ndarray | None = None

    def to_raw(self, value: float) -> float:
        """Return the raw value for ``value`` (in range)."""
        if self.kind == "choice":
            return value / (self.steps - 1) if self.steps > 1 else 0.0
        if self.kind == "log":
            raw = math.log(value / self.lo) / math.log(self.hi / self.lo)
        elif self.kind == "table":
            order = slice(None) if self.values[-1] >= self.values[0] else slice(None, None, -1)
            raw = float(np.interp(value, self.values[order], self.points[order]))
        elif self.kind == "linear":
            raw = (value - self.lo) / (self.hi - self.lo)
        else:
            raw = value
        if self.steps > 1:
            raw = round(raw * (self.steps - 1)) / (self.steps - 1)
        return min(max(raw, 0.0), 1.0)

    def to_value(self, raw: float) -> float:
        """Return the value shown by ``raw``."""
        if self.steps > 1:
            raw = round(raw * (self.steps - 1)) / (self.steps - 1)
        if self.kind == "choice":
            return float(round(raw * (self.steps - 1)))
        if self.kind == "log":
            value = self.lo * (self.hi / self.lo) ** raw
        elif self.kind == "table":
            value = float(np.interp(raw, self.points, self.values))
        elif self.kind == "linear":
            value = self.lo + raw * (self.hi - self.lo)
        else:
            value = raw
        if self.kind == "raw":
            return value
        # The plugin holds a float32 raw value: give the shortest number that maps to it
        # (-6.0 rather than the -6.0000001 its float32 raw value spells exactly).
        held = np.float32(raw)
        first = -math.floor(math.log10(abs(self.hi - self.lo)))  # decimals of the range's size
        for digits in range(first, first + 12):
            shorter = round(value, digits)
            if min(self.lo, self.hi) <= shorter <= max(self.lo, self.hi) and np.float32(self.to_raw(shorter)) == held:
                return shorter
        return value


def _describe(param: object, ident: str) -> tuple[Parameter, _Map]:
    """Describe one of pedalboard's parameters in the plugin's own unit, from its text."""
    name = param.name or ident
    unit = param.label.strip()
    text = param.get_text_for_raw_value
    steps = param.num_steps if param.is_discrete and 2 <= param.num_steps < _CONTINUOUS else 0
    if param.is_boolean:
        steps = 2
    default_raw = float(param.default_raw_value)
    if 2 <= steps <= MAX_CHOICES:
        labels = [text(k / (steps - 1)) for k in range(steps)]
        if all(labels) and len(set(labels)) == len(labels) and any(_number(t, unit) is None for t in labels):
            m = _Map("choice", steps=steps)
            return Parameter(ident, name, 0.0, steps - 1.0, m.to_value(default_raw), choices=tuple(labels), ramp=0.0), m
    if steps:  # the grid's points fall on steps, whose text is exact
        points = np.unique(np.round(np.linspace(0, steps - 1, min(steps, 17)))) / (steps - 1)
    else:
        points = np.linspace(0.0, 1.0, 17)
    found = [_number(text(float(r)), unit) for r in points]
    m = None
    if None not in found and found[0] != found[-1]:
        values = np.array(found)
        lo, hi = float(values[0]), float(values[-1])
        span = abs(hi - lo)
        tol = 1e-4 * span + 1e-6
        if np.abs(values - (lo + points * (hi - lo))).max() <= tol:
            m = _Map("linear", lo, hi, steps)
        elif lo * hi > 0 and np.abs(values - lo * (hi / lo) ** points).max() <= tol:
            m = _Map("log", lo, hi, steps)
        else:
            points = np.linspace(0.0, 1.0, 257)
            found = [_number(text(float(r)), unit) for r in points]
            table = np.array([math.nan if v is None else v for v in found])
            steps_up = np.diff(table)
            if np.isfinite(table).all() and ((steps_up >= 0).all() or (steps_up <= 0).all()):
                m = _Map("table", lo, hi, steps, points, table)
    if m is None:  # the text shows no numbers: offer the raw value
        m = _Map("raw", steps=steps)
        lo, hi, unit = 0.0, 1.0, ""
    low, high = min(lo, hi), max(lo, hi)
    default = min(max(m.to_value(default_raw), low), high)
    scale = "db" if unit.lower() == "db" else "log" if m.kind == "log" else "linear"
    return Parameter(ident, name, low, high, default, unit, scale, ramp=0.0), m


def _names(path: str) -> list[str]:
    """Return the names of the plugins the bundle ``path`` holds."""
    import pedalboard

    if not Path(path).exists():
        raise PluginError(path, "no such file or bundle")
    try:
        with kept_fp_env():
            names = list(pedalboard.VST3Plugin.get_plugin_names_for_file(path))
    except ImportError as e:
        raise PluginError(path, "not a VST3 plugin (JUCE cannot scan it)") from e
    if not names:
        raise PluginError(path, "holds no plugins")
    return names


def list_vst3(path: str | Path) -> list[PluginInfo]:
    """Return every plugin a ``.vst3`` bundle holds.

    Each is loaded briefly to learn its audio channels.

    Raises
    ------
    PluginError
        The bundle is missing, not a VST3 plugin, or a plugin in it fails to load.
    """
    names = _names(str(path))
    infos = []
    for name in names:
        plugin = Vst3Plugin(path, name)
        infos.append(plugin.info)
        plugin.close()
    return infos


class Vst3Plugin:
    """One VST3 plugin instance, run through pedalboard as a `PluginInstance`.

    ``plugin_name`` chooses among the plugins of a bundle (the first if omitted).
    Parameter ids are the plugin's parameter names in lower snake case (``"Gain dB"`` →
    ``gain_db``), numbered on collision; values are in the units the plugin's own text
    shows, or its 0–1 value where the text shows no number. Parameters hosts may not
    automate (read-only outputs, mostly), MIDI-controller stand-ins and the program
    selector are not listed. An effect has as many outputs as inputs
    (stereo if it takes stereo, else mono); an instrument takes MIDI and no audio. State
    saved by `save_state` names the plugin it belongs to.

    Raises
    ------
    PluginError
        The bundle is missing, not a VST3 plugin, holds no plugin of that name, or the
        plugin does not load.
    """

    def __init__(self, path: str | Path, plugin_name: str | None = None) -> None:
        import pedalboard

        self._pb = None
        path = str(path).rstrip("/")
        names = _names(path)
        if plugin_name is not None and plugin_name not in names:
            raise PluginError(path, f"holds no plugin {plugin_name!r} (it holds {', '.join(names)})")
        chosen = plugin_name if plugin_name is not None else names[0]
        self._name = path if len(names) == 1 else f"{path}#{chosen}"
        try:
            with _without_parameter_scan():
                with kept_fp_env():
                    self._pb = pedalboard.VST3Plugin(path, plugin_name=chosen if len(names) > 1 else None)
        except Exception as e:  # pedalboard raises ImportError, RuntimeError, ValueError...
            raise PluginError(self._name, f"does not load: {e}") from e
        pb = self._pb
        self._render = self._call = pb.process
        self._instrument = instrument = bool(pb.is_instrument)
        try:
            self._channels = self._probe_channels(instrument)
        except RuntimeError as e:
            raise PluginError(self._name, f"does not run: {e}") from e
        self.info = PluginInfo(
            "vst3", chosen, path, pb.name or chosen, pb.manufacturer_name, pb.version,
            0 if instrument else self._channels, self._channels, instrument,
        )  # fmt: skip
        self._cpp = list(pb._parameters)
        self._index: dict[str, int] = {}
        for i, p in enumerate(self._cpp):
            if p.is_automatable and not _NOT_OWN.match(p.name):
                ident, n = _snake(p.name), 2
                while ident in self._index:
                    ident, n = f"{_snake(p.name)}_{n}", n + 1
                self._index[ident] = i
        self._described: dict[str, tuple[Parameter, _Map]] = {}
        self._rate = 0.0
        self._block = 0
        self._in = np.zeros((0, self.info.inputs), np.float32)

    def _probe_channels(self, instrument: bool) -> int:
        """Return the channel count the plugin takes: stereo if it can, else mono."""
        errors = []
        for channels in (2, 1):
            try:
                if instrument:
                    self._render((), 0.0, 48000.0, channels, _PROBE, False)
                else:
                    self._call(np.zeros((_PROBE, channels), np.float32), 48000.0, _PROBE, False)
                return channels
            except ValueError as e:
                errors.append(str(e))
        raise PluginError(self._name, f"runs neither stereo nor mono: {errors[-1]}")

    def __repr__(self) -> str:
        return f"Vst3Plugin({self.info.path!r}, {self.info.uri!r})" if hasattr(self, "info") else "Vst3Plugin(...)"

    # --- parameters ----------------------------------------------------------------------------

    @cached_property
    def parameters(self) -> tuple[Parameter, ...]:
        """Return the plugin's parameters (described on first use: it reads their text)."""
        return tuple(self._describe(ident)[0] for ident in self._index)

    def _describe(self, ident: str) -> tuple[Parameter, _Map]:
        found = self._described.get(ident)
        if found is None:
            index = self._index.get(ident)
            if index is None:
                known = ", ".join(self._index) or "none"
                raise ValueError(f"{self._name} has no parameter {ident!r} (it has {known})")
            found = self._described[ident] = _describe(self._cpp[index], ident)
        return found

    def set_parameter(self, ident: str, value: float) -> None:
        """Set parameter ``ident`` to ``value`` (its own unit; a choice's index or name); takes
        effect from the next `process`. Audio-thread safe once the parameter is described.

        Raises
        ------
        ValueError
            An unknown ``ident`` or a value out of range.
        """
        param, m = self._describe(ident)
        self._cpp[self._index[ident]].raw_value = m.to_raw(param.check(value))

    def get_parameter(self, ident: str) -> float:
        """Return parameter ``ident``'s value as the plugin holds it (a choice's index)."""
        param, m = self._describe(ident)
        return m.to_value(float(self._cpp[self._index[ident]].raw_value))

    # --- life cycle ----------------------------------------------------------------------------

    def activate(self, sample_rate: int, max_block: int) -> None:
        """Reset the plugin and prepare it for ``sample_rate`` in blocks of at most
        ``max_block`` frames: an effect processes ``max_block`` frames of silence."""
        pb = self._require_open()
        rate, block = float(sample_rate), max(int(max_block), 1)
        try:
            if self._instrument:
                # A reset would reload an instrument (pedalboard cannot tell whether it
                # clears itself); preparing it plays nothing.
                self._render((), 0.0, rate, self._channels, block, False)
            else:
                silence = np.zeros((block, self._channels), np.float32)
                try:
                    self._call(silence, rate, block, True)
                except RuntimeError as e:
                    # A plugin that keeps audio across a reset is reloaded, which pedalboard
                    # does on the main thread only: elsewhere it is prepared without one.
                    if "main thread" not in str(e):
                        raise
                    self._call(silence, rate, block, False)
        except (RuntimeError, ValueError) as e:
            raise PluginError(self._name, f"refused to activate at {sample_rate} Hz, blocks of {block}: {e}") from e
        self._cpp = list(pb._parameters)  # a reload makes new parameter objects
        self._rate, self._block = rate, block
        self._in = np.zeros((block, self.info.inputs), np.float32)

    def deactivate(self) -> None:
        """Stop processing (pedalboard has no such call: the next `activate` resets the plugin)."""
        self._block = 0

    def process(self, inputs: np.ndarray, outputs: np.ndarray, frames: int, midi: MidiBlock | None) -> None:
        """Run ``frames`` frames: float32 ``inputs[:frames]`` ``(max_block, info.inputs)`` in,
        ``outputs[:frames]`` ``(max_block, info.outputs)`` out, the plugin's raw output (see the
        module's docstring); an instrument gets ``midi``'s events on their frames.
        Audio-thread code apart from pedalboard's own arrays: no copy of the input unless it
        is not contiguous float32."""
        if frames <= 0:
            return
        if frames > self._block:
            raise ValueError(f"{frames} frames is more than the {self._block} {self._name} was activated for")
        if self._instrument:
            events = self._events(midi, frames) if midi is not None and midi.count[0] else ()
            # pedalboard truncates duration × rate (floats) to frames: half a frame more is exact
            y = self._render(events, (frames + 0.5) / self._rate, self._rate, self._channels, self._block, False)
            outputs[:frames] = y.T
            return
        x = inputs if inputs.shape[0] == frames else inputs[:frames]
        if not (x.flags.c_contiguous and x.dtype == _F32):
            x = self._in[:frames]
            x[...] = inputs[:frames]
        y = self._call(x, self._rate, self._block, False)
        kept = y.shape[0]
        if kept == frames == outputs.shape[0]:  # the usual case: no slicing
            np.copyto(outputs, y)
            return
        if kept < frames:  # pedalboard dropped the first frames it counts as latency
            outputs[: frames - kept] = 0.0
        outputs[frames - kept : frames] = y

    def _events(self, midi: MidiBlock, frames: int) -> list[tuple[bytes, float]]:
        # pedalboard truncates time × rate (floats) to a frame: the frame's middle is exact
        rate, last = self._rate, frames - 1
        return [
            (midi.data[i, : midi.size[i]].tobytes(), (min(max(int(midi.frame[i]), 0), last) + 0.5) / rate)
            for i in range(int(midi.count[0]))
        ]

    @property
    def latency(self) -> int:
        """Return the latency the plugin reports, frames (as of the last `process` or `activate`)."""
        return int(self._require_open().reported_latency_samples)

    # --- state ---------------------------------------------------------------------------------

    def _stamp(self) -> bytes:
        return _STATE_MAGIC + self.info.uri.encode() + b"\x00"

    def save_state(self) -> bytes:
        """Return the plugin's complete state (JUCE's, holding the VST3 component and
        controller states), stamped with the plugin's name."""
        return self._stamp() + bytes(self._require_open().raw_state)

    def load_state(self, state: bytes) -> None:
        """Restore a state `save_state` returned; raise `PluginError` if it is not this plugin's.

        The plugin takes it at once; its latency follows at the next `process`. Not while
        `process` runs.
        """
        pb = self._require_open()
        stamp = self._stamp()
        try:
            data = bytes(state)
        except TypeError as e:
            raise PluginError(self._name, f"refused the state: {type(state).__name__} is not bytes") from e
        body = data[len(stamp) :]
        # JUCE ignores a state it cannot read: check the stamp and JUCE's own header first.
        if not data.startswith(stamp) or len(body) < 8 or not body.startswith(_JUCE_MAGIC):
            raise PluginError(self._name, "the state given is not a saved state of this plugin")
        (size,) = struct.unpack_from("<I", body, 4)
        if len(body) < 8 + size:
            raise PluginError(self._name, "the state given is cut short")
        pb.raw_state = body

    # --- the end -------------------------------------------------------------------------------

    def _require_open(self) -> object:
        if self._pb is None:
            raise PluginError(self._name, "is closed")
        return self._pb

    def close(self) -> None:
        """Free the instance (pedalboard unloads the bundle when no instance uses it)."""
        self._pb = self._call = self._render = None
        self._cpp = []
        self._block = 0

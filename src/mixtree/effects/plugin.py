"""Third-party plugins as effects: `Plugin` puts a hosted LV2, CLAP or VST3 instance in a chain."""

from __future__ import annotations

import base64
import binascii
from pathlib import Path
from typing import Any

import numpy as np

from mixtree.effects.base import Effect
from mixtree.effects.plugins.base import MidiBlock, PluginInfo, PluginInstance
from mixtree.effects.plugins.sandbox import SandboxedPlugin
from mixtree.effects.plugins.scan import known_failure
from mixtree.errors import PluginError

#: The longest block a plugin is activated for (a plan's longest).
MAX_BLOCK = 8192


def open_plugin(source: str, sample_rate: int = 48000, trust_scan: bool = True) -> PluginInstance:
    """Load the plugin ``source`` names: an LV2 URI or bundle directory, a ``.clap`` file
    (its first plugin, or ``file.clap#plugin-id``), a ``.vst3`` bundle (its first plugin,
    or ``bundle.vst3#Plugin Name``), or the name of an installed LV2 plugin. A file the
    last scan (`mixtree.effects.plugins.scan`) saw hang or crash on load, unchanged since,
    is refused without loading it, unless not ``trust_scan`` (a sandbox's worker).

    Raises
    ------
    PluginError
        Nothing of that name, the last scan saw it fail, or the plugin does not load.
    """
    text = str(source)
    file = _file_of(text)
    failure = known_failure(file) if trust_scan and file is not None else None
    if failure is not None:
        raise PluginError(text, f"the last scan saw it fail ({failure}): load it with sandbox=True, or scan again")
    if text.endswith(".clap") or ".clap#" in text:
        from mixtree.effects.plugins.clap import ClapPlugin

        path, _, ident = text.partition(".clap#")
        return ClapPlugin(path + ".clap" if ident else path, ident or None)  # type: ignore[return-value]
    if text.rstrip("/").endswith(".vst3") or ".vst3#" in text:
        from mixtree.effects.plugins.vst3 import Vst3Plugin

        path, _, name = text.partition(".vst3#")
        return Vst3Plugin(path + ".vst3" if name else path, name or None)  # type: ignore[return-value]
    from mixtree.effects.plugins.lv2 import Lv2Plugin, list_lv2

    if "://" in text or text.startswith("urn:") or text.endswith(".lv2") or Path(text).is_dir():
        return Lv2Plugin(text, sample_rate)  # type: ignore[return-value]
    named = [info for info in list_lv2() if info.name.lower() == text.lower()]
    if len(named) == 1:
        return Lv2Plugin(named[0].uri, sample_rate)  # type: ignore[return-value]
    if named:
        raise PluginError(text, f"{len(named)} installed plugins have that name: {', '.join(i.uri for i in named)}")
    raise PluginError(text, "not an LV2 URI or bundle, a .clap file, a .vst3 bundle or an installed plugin's name")


def _file_of(source: str) -> Path | None:
    """Return the bundle or file ``source`` loads a plugin from, if it names one."""
    for suffix in (".clap", ".vst3"):
        head, hash_, _ = source.partition(suffix + "#")
        if hash_:
            return Path(head + suffix)
    path = Path(source)
    return path if path.suffix in (".clap", ".vst3", ".lv2") else None


class Plugin(Effect):
    """A hosted plugin in an effect chain, like a built-in effect.

    ``Plugin("http://lv2plug.in/plugins/eg-amp", gain=-6.0)``: its ``parameters`` are the
    plugin's own (ids, ranges, units), set by id or name or as attributes, undoable and
    automatable; ``info`` says who it is (format, URI, path, version). A project saves
    its identity and its complete state (the format's opaque state, with the parameter
    values beside it); a process where it does not load opens it as an offline
    placeholder that keeps both. It runs on its own (one call per block, or per 16
    frames under automation, see `mixtree.render.stages.SoloStage`); a mono plugin takes
    the mid of a stereo track and its output goes to both sides.

    With ``sandbox=True`` it runs in a worker process (`SandboxedPlugin`): a crash or a
    hang silences its track and is reported instead of taking the engine down, and
    `recover` starts it again.

    Parameters
    ----------
    source : str
        What `open_plugin` takes: an LV2 URI or bundle, a ``.clap`` file, a ``.vst3`` bundle,
        a plugin's name.
    sandbox : bool
        Run it in a worker process rather than in this one.
    **values : float | str
        Parameter values to start from, by id.

    Raises
    ------
    PluginError
        The plugin cannot be found or loaded (the message names it).
    """

    effect_type = "plugin"
    hosted = True

    def __init__(self, source: str, *, sandbox: bool = False, **values: float | str) -> None:
        self._copies: dict[tuple[int, ...], Plugin] = {}  # what plays it in alias instances
        self._plugin = SandboxedPlugin(source, max_block=MAX_BLOCK) if sandbox else open_plugin(source)
        self.source = str(source)
        self.sandbox = bool(sandbox)
        self.info: PluginInfo = self._plugin.info
        self.PARAMETERS = self._plugin.parameters  # this instance's own
        self.is_instrument = self.info.instrument
        self._dirty = True  # parameter values the plugin has not been given yet
        self._rate = 0
        self._in = np.zeros((MAX_BLOCK, self.info.inputs), np.float32)
        self._out = np.zeros((MAX_BLOCK, self.info.outputs), np.float32)
        super().__init__(**values)
        self._ids = frozenset(p.id for p in self.PARAMETERS)

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_") and name in self.__dict__.get("_ids", ()):
            return self.get_parameter(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    def __setattr__(self, name: str, value: Any) -> None:
        if not name.startswith("_") and name in self.__dict__.get("_ids", ()):
            self.set_parameter(name, value)
        else:
            super().__setattr__(name, value)

    def __repr__(self) -> str:
        return f"Plugin({self.info.uri!r}, sandbox=True)" if self.sandbox else f"Plugin({self.info.uri!r})"

    @property
    def latency(self) -> int:
        """Return the latency the plugin reports, frames."""
        return int(self._plugin.latency)

    # -- the audio side ------------------------------------------------------------------
    def prepare(self, sample_rate: int) -> None:
        """Activate the plugin at ``sample_rate`` and give it its parameter values (control
        side: its reported latency then counts them)."""
        if sample_rate != self._rate:
            self._dirty = True
            self._send_values()  # before activating: an inactive plugin takes them at once
            self._plugin.activate(sample_rate, MAX_BLOCK)
            self._rate = sample_rate
        super().prepare(sample_rate)

    def assign(self, pid: str, value: float) -> None:
        """Set a checked value; the plugin (and its copies in alias instances) take it at
        their next block."""
        super().assign(pid, value)
        self._dirty = True
        for copy in self._copies.values():
            copy.assign(pid, value)

    def instance_copy(self, key: tuple[int, ...], sample_rate: int, fresh: bool = False) -> Plugin:
        """Return the instance of the plugin that plays it in alias instance ``key``: made
        from this one's state on first use and kept, following its edits (a fresh one
        for an offline render)."""
        if fresh:
            return self.fresh_copy(sample_rate)
        copy = self._copies.get(key)
        if copy is None:
            copy = self._copies[key] = self.fresh_copy(sample_rate)
        return copy

    def keep_instances(self, keys: set[tuple[int, ...]]) -> None:
        """Drop the copies of alias instances other than ``keys`` (a plan still playing one
        keeps it until it retires; it closes when nothing holds it)."""
        super().keep_instances(keys)
        if self._copies.keys() - keys:
            self._copies = {k: c for k, c in self._copies.items() if k in keys}

    def automation_value(self, pid: str, value: float) -> None:
        """Hand the plugin its lane's value for the frames processed next. Audio-thread safe."""
        self._playing[pid] = value
        self._plugin.set_parameter(pid, value)

    def automation_ended(self) -> None:
        """Give the plugin its own values again. Audio-thread safe."""
        if self._playing:
            self._playing.clear()
            self._dirty = True

    def process_block(self, block: np.ndarray, sample_rate: int) -> None:
        """Run the plugin on float32 ``(frames, 2)`` ``block`` in place. Audio-thread safe:
        no allocation beyond the host's call."""
        if self._bypass:
            self._send_values()
            return
        self._run(block, None)
        outputs, n = self._out, block.shape[0]
        if outputs.shape[1] >= 2:
            block[:] = outputs[:n, :2]
        elif outputs.shape[1] == 1:
            block[:, 0] = outputs[:n, 0]
            block[:, 1] = outputs[:n, 0]
        else:
            block.fill(0.0)

    def process_midi(self, block: np.ndarray, sample_rate: int, midi: MidiBlock) -> None:
        """Play ``midi``'s events (an instrument) and add the output to float32 ``(frames,
        2)`` ``block``. Audio-thread safe: no allocation beyond the host's call."""
        self._run(block, midi)
        outputs, n = self._out, block.shape[0]
        if outputs.shape[1] >= 2:
            block += outputs[:n, :2]
        elif outputs.shape[1] == 1:
            block += outputs[:n, :1]

    def _run(self, block: np.ndarray, midi: MidiBlock | None) -> None:
        # the plugin's input from ``block`` (a mono one takes the mid), one run into ``_out``
        self._send_values()
        n = block.shape[0]
        inputs = self._in
        if inputs.shape[1] >= 2:
            inputs[:n, :2] = block
        elif inputs.shape[1] == 1:
            np.add(block[:, 0], block[:, 1], out=inputs[:n, 0])
            inputs[:n, 0] *= 0.5
        self._plugin.process(inputs, self._out, n, midi)

    def _send_values(self) -> None:
        # parameter values set since the last block (not those a lane plays)
        if self._dirty:
            self._dirty = False
            values, playing, plugin = self._values, self._playing, self._plugin
            for p in self.PARAMETERS:
                if p.id not in playing:
                    plugin.set_parameter(p.id, values[p.id])

    def idle(self) -> list[PluginInstance]:
        """Run what the plugin (and its copies in alias instances) asked of the main thread
        (control side, a few times a second). One that asked to be restarted (a CLAP
        plugin whose latency or ports changed) is replaced by a new instance in its state,
        activated here, and plays from its next block; the old instances are returned, to
        be closed once the audio thread is past them."""
        retired = []
        for plugin in (self, *self._copies.values()):
            instance = plugin._plugin
            idle = getattr(instance, "idle", None)
            if idle is not None:
                idle()
            if plugin._rate and getattr(instance, "restart_requested", False):
                plugin._plugin = plugin._reopened()
                plugin._dirty = True
                retired.append(instance)
        return retired

    def _reopened(self) -> PluginInstance:
        # a new instance in this one's state, given its values and active at its rate
        fresh = SandboxedPlugin(self.source, max_block=MAX_BLOCK) if self.sandbox else open_plugin(self.source)
        fresh.load_state(self._plugin.save_state())
        for p in self.PARAMETERS:
            fresh.set_parameter(p.id, self._playing.get(p.id, self._values[p.id]))
        fresh.activate(self._rate, MAX_BLOCK)
        return fresh

    @property
    def broken(self) -> str | None:
        """Return why a sandboxed plugin's worker stopped (it waits for `recover`), or None."""
        return getattr(self._plugin, "failed", None)

    def recover(self) -> None:
        """Restart a sandboxed plugin whose worker crashed or hung, with its last state saved
        and its parameter values; it plays again from the next block (control side).

        Raises
        ------
        ValueError
            The plugin runs in this process (nothing to restart).
        PluginError
            It does not load again or refuses its state.
        """
        if not isinstance(self._plugin, SandboxedPlugin):
            raise ValueError(f"{self!r} runs in this process: only Plugin(..., sandbox=True) can be recovered")
        self._plugin.recover()
        self._dirty = True

    # -- state ---------------------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Return the plugin's identity, parameter values and opaque state as plain data
        (``"sandbox": true`` for one that runs in a worker process)."""
        info = self.info
        sandbox = {"sandbox": True} if self.sandbox else {}
        return {
            **super().get_state(),
            "format": info.format,
            "uri": info.uri,
            "path": info.path,
            "name": info.name,
            "version": info.version,
            "state": base64.b64encode(self._plugin.save_state()).decode("ascii"),
            **sandbox,
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Plugin:
        """Load the plugin a saved state names and give it that state.

        Raises
        ------
        PluginError
            It does not load here, or refuses the state.
        ValueError
            The saved state is malformed.
        """
        uri, path = state.get("uri"), state.get("path")
        if not isinstance(uri, str) or not uri or not isinstance(path, str):
            raise ValueError(f"a saved plugin names its uri and path, not {uri!r} and {path!r}")
        source = f"{path}#{uri}" if state.get("format") in ("clap", "vst3") else uri
        sandbox = state.get("sandbox", False)
        if not isinstance(sandbox, bool):
            raise ValueError(f"a saved plugin's sandbox is true or false, not {sandbox!r}")
        plugin = cls(source, sandbox=sandbox)
        blob = state.get("state")
        if blob is not None:
            try:
                data = base64.b64decode(str(blob), validate=True)
            except (binascii.Error, ValueError) as exc:
                raise ValueError(f"the saved state of {source!r} is not base64: {exc}") from exc
            plugin._plugin.load_state(data)
        plugin.set_state(state)
        return plugin

    def measure_latency(self, sample_rate: int = 48000, seconds: float = 1.0) -> int | None:
        """Return the latency an impulse through a copy of the plugin (in this one's state)
        shows: the frame its first output sample comes on, or None if nothing comes out
        within ``seconds`` (an instrument, a gate). Plans compensate what the plugin
        reports; this checks the report (control side, takes a moment)."""
        copy = self.fresh_copy(sample_rate)
        try:
            frames = int(seconds * sample_rate)
            x = np.zeros((frames, 2), np.float32)
            x[0] = 0.1  # below the thresholds of dynamics processors
            for at in range(0, frames, 4096):
                copy.process_block(x[at : at + 4096], sample_rate)
            heard = np.flatnonzero(np.abs(x).max(axis=1) > 1e-6)
            return int(heard[0]) if heard.size else None
        finally:
            copy.close()

    def fresh_copy(self, sample_rate: int) -> Plugin:
        """Return a new instance of the plugin in this one's state, ready at ``sample_rate``
        (what an offline render runs: see `Effect.fresh_copy`)."""
        copy = Plugin.restore(self.get_state())
        copy.prepare(sample_rate)
        return copy

    def close(self) -> None:
        """Free the plugin instance (the effect cannot play after)."""
        self._plugin.close()

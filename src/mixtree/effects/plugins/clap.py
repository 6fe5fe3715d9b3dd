"""Host CLAP plugins through the CLAP C ABI with ctypes.

`list_clap` names the plugins a ``.clap`` file holds; `ClapPlugin` loads one of them as
a `PluginInstance`. The host gives plugins the params, latency, state and log
extensions (callbacks that only take note) and feeds them float32 audio, parameter
changes and MIDI (raw, or as CLAP note events when the plugin wants no MIDI), all
from structures built before the first `ClapPlugin.process` call.
"""

from __future__ import annotations

import collections
import ctypes
import json
import re
from ctypes import POINTER, byref, c_double, c_float
from importlib import metadata
from pathlib import Path

import numpy as np

from mixtree.effects.parameters import Parameter
from mixtree.effects.plugins import clap_abi as abi
from mixtree.effects.plugins.base import MidiBlock, PluginInfo, kept_fp_env
from mixtree.errors import PluginError

__all__ = ["ClapPlugin", "list_clap"]

#: How many MIDI events one process call passes on (more are dropped).
MIDI_CAPACITY = 1024

#: Most values a stepped parameter (from 0) may have to be offered as named choices.
MAX_CHOICES = 32

_STATE_MAGIC = b"mixtree-clap-state\x00"
_PLUGIN, _PARAMS = b"s", b"p"  # what follows the stamp: the plugin's own state, or our parameter values
_STRIDE = 64  # bytes per event slot: the largest event mixtree sends (param value, 56) rounded up

# One event slot seen as any of the three events mixtree sends; fields overlap on purpose.
_H, _P, _N, _M = abi.clap_event_header, abi.clap_event_param_value, abi.clap_event_note, abi.clap_event_midi
_EVENT = np.dtype({
    "names": ["size", "time", "space_id", "type", "flags", "param_id", "cookie", "p_note_id", "p_port", "p_channel",
              "p_key", "value", "n_note_id", "n_port", "n_channel", "n_key", "velocity", "m_port", "m_data"],
    "formats": ["<u4", "<u4", "<u2", "<u2", "<u4", "<u4", "<u8", "<i4", "<i2", "<i2", "<i2", "<f8", "<i4", "<i2", "<i2",
                "<i2", "<f8", "<u2", ("u1", 3)],
    "offsets": [_H.size.offset, _H.time.offset, _H.space_id.offset, _H.type.offset, _H.flags.offset,
                _P.param_id.offset, _P.cookie.offset, _P.note_id.offset, _P.port_index.offset, _P.channel.offset,
                _P.key.offset, _P.value.offset, _N.note_id.offset, _N.port_index.offset, _N.channel.offset,
                _N.key.offset, _N.velocity.offset, _M.port_index.offset, _M.data.offset],
    "itemsize": _STRIDE,
})  # fmt: skip


def _host_version() -> bytes:
    try:
        return metadata.version("mixtree").encode()
    except metadata.PackageNotFoundError:
        return b"0"


def _text(raw: bytes | None) -> str:
    return raw.decode("utf-8", "replace") if raw else ""


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _snake(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "param"


class _Library:
    """One loaded ``.clap`` file, its entry initialised once and shared by its instances."""

    _open: dict[str, _Library] = {}

    def __init__(self, path: Path) -> None:
        name = str(path)
        if not path.is_file():
            raise PluginError(name, "no such file" if not path.exists() else "not a file")
        try:
            with kept_fp_env():
                self.dll = ctypes.CDLL(name, mode=ctypes.RTLD_LOCAL)
        except OSError as e:
            raise PluginError(name, f"cannot be loaded as a library: {e}") from e
        try:
            self.entry = abi.clap_plugin_entry.in_dll(self.dll, "clap_entry")
        except ValueError as e:
            raise PluginError(name, "not a CLAP plugin (no clap_entry symbol)") from e
        if self.entry.clap_version.major < 1:
            v = self.entry.clap_version
            raise PluginError(name, f"CLAP version {v.major}.{v.minor}.{v.revision} is not supported")
        if not self.entry.init(name.encode()):
            raise PluginError(name, "its entry refused to initialise")
        factory = self.entry.get_factory(abi.CLAP_PLUGIN_FACTORY_ID)
        if not factory:
            self.entry.deinit()
            raise PluginError(name, "offers no plugin factory")
        self.path = name
        self.factory_ptr = ctypes.cast(factory, POINTER(abi.clap_plugin_factory))
        self.factory = self.factory_ptr.contents
        self.users = 0

    @classmethod
    def acquire(cls, path: str | Path) -> _Library:
        """Return the loaded library at ``path``, loading and initialising it on first use."""
        key = str(Path(path).absolute())
        lib = cls._open.get(key)
        if lib is None:
            lib = cls._open[key] = cls(Path(key))
        lib.users += 1
        return lib

    def release(self) -> None:
        """Drop one user; the last one deinitialises the entry (the code stays mapped)."""
        self.users -= 1
        if self.users == 0:
            del self._open[self.path]
            self.entry.deinit()

    def descriptors(self) -> list[abi.clap_plugin_descriptor]:
        """Return the descriptors of every plugin the file holds."""
        count = self.factory.get_plugin_count(self.factory_ptr)
        found = [self.factory.get_plugin_descriptor(self.factory_ptr, i) for i in range(count)]
        return [d.contents for d in found if d]


class _Host:
    """The ``clap_host`` one plugin instance talks to: callbacks that only take note."""

    def __init__(self) -> None:
        self.restart_requested = False
        self.callback_requested = False
        self.flush_requested = False
        self.latency_changed = False
        self.dirty = False
        self.log: collections.deque[tuple[int, str]] = collections.deque(maxlen=64)
        request = abi.host_request
        self.params = abi.clap_host_params(
            abi.host_params_rescan(lambda host, flags: None),
            abi.host_params_clear(lambda host, param, flags: None),
            request(self._request_flush),
        )
        self.latency = abi.clap_host_latency(request(self._latency_changed))
        self.state = abi.clap_host_state(request(self._mark_dirty))
        self.logger = abi.clap_host_log(abi.host_log(self._log))
        self.extensions = {
            abi.CLAP_EXT_PARAMS: ctypes.addressof(self.params),
            abi.CLAP_EXT_LATENCY: ctypes.addressof(self.latency),
            abi.CLAP_EXT_STATE: ctypes.addressof(self.state),
            abi.CLAP_EXT_LOG: ctypes.addressof(self.logger),
        }
        self.struct = abi.clap_host(
            abi.clap_version(*abi.CLAP_VERSION), None, b"mixtree", b"mixtree", b"", _host_version(),
            abi.host_get_extension(self._get_extension), request(self._request_restart),
            request(lambda host: None), request(self._request_callback),
        )  # fmt: skip

    def _get_extension(self, host: object, ident: bytes | None) -> int | None:
        return self.extensions.get(ident or b"")

    def _request_restart(self, host: object) -> None:
        self.restart_requested = True

    def _request_callback(self, host: object) -> None:
        self.callback_requested = True

    def _request_flush(self, host: object) -> None:
        self.flush_requested = True

    def _latency_changed(self, host: object) -> None:
        self.latency_changed = True

    def _mark_dirty(self, host: object) -> None:
        self.dirty = True

    def _log(self, host: object, severity: int, message: bytes | None) -> None:
        self.log.append((severity, _text(message)))


def list_clap(path: str | Path) -> list[PluginInfo]:
    """Return every plugin a ``.clap`` file holds.

    Each is instantiated briefly to learn its audio channels.

    Raises
    ------
    PluginError
        The file is missing, not a CLAP plugin, or a plugin in it fails to start.
    """
    lib = _Library.acquire(path)
    try:
        ids = [_text(d.id) for d in lib.descriptors()]
        infos = []
        for ident in ids:
            plugin = ClapPlugin(path, ident)
            infos.append(plugin.info)
            plugin.close()
        return infos
    finally:
        lib.release()


class ClapPlugin:
    """One CLAP plugin instance, run as a `PluginInstance`.

    ``plugin_id`` chooses among the plugins of a file (the first if omitted). Parameter
    ids are the plugin's parameter names in lower snake case (``"Gain dB"`` →
    ``gain_db``), numbered on collision; `native_ids` maps them to CLAP ids. `process`,
    `set_parameter` and `latency` may run on an audio thread; the rest on one control
    thread. State saved by `save_state` names the plugin it belongs to; for a plugin
    without the state extension it holds the parameter values.
    """

    def __init__(self, path: str | Path, plugin_id: str | None = None) -> None:
        self._lib = _Library.acquire(path)
        self._ptr = None
        self._active = False
        try:
            self._create(plugin_id)
        except BaseException:
            self.close()
            raise

    # --- loading -------------------------------------------------------------------------------

    def _create(self, plugin_id: str | None) -> None:
        lib = self._lib
        descs = lib.descriptors()
        if not descs:
            raise PluginError(lib.path, "holds no plugins")
        ids = [_text(d.id) for d in descs]
        if plugin_id is None:
            plugin_id = ids[0]
        if plugin_id not in ids:
            raise PluginError(lib.path, f"holds no plugin {plugin_id!r} (it holds {', '.join(ids)})")
        desc = descs[ids.index(plugin_id)]
        self._name = plugin_id
        self._host = _Host()
        ptr = lib.factory.create_plugin(lib.factory_ptr, byref(self._host.struct), plugin_id.encode())
        if not ptr:
            raise PluginError(plugin_id, "the factory did not create it")
        self._ptr = ptr
        self._fn = ptr.contents
        if not self._fn.init(ptr):
            self._fn.destroy(ptr)
            self._ptr = None
            raise PluginError(plugin_id, "refused to initialise")
        features = []
        if desc.features:
            for i in range(256):
                if not desc.features[i]:
                    break
                features.append(_text(desc.features[i]))
        self._audio_ports = self._extension(abi.CLAP_EXT_AUDIO_PORTS, abi.clap_plugin_audio_ports)
        self._note_ports = self._extension(abi.CLAP_EXT_NOTE_PORTS, abi.clap_plugin_note_ports)
        self._params = self._extension(abi.CLAP_EXT_PARAMS, abi.clap_plugin_params)
        self._latency = self._extension(abi.CLAP_EXT_LATENCY, abi.clap_plugin_latency)
        self._state = self._extension(abi.CLAP_EXT_STATE, abi.clap_plugin_state)
        self._in_ports, self._main_in = self._ports(True)
        self._out_ports, self._main_out = self._ports(False)
        self._note_dialect = self._dialect()
        self.info = PluginInfo(
            "clap", plugin_id, lib.path, _text(desc.name) or plugin_id, _text(desc.vendor), _text(desc.version),
            self._in_ports[self._main_in] if self._in_ports else 0,
            self._out_ports[self._main_out] if self._out_ports else 0,
            "instrument" in features,
        )  # fmt: skip
        self._read_parameters()
        self._build_events()

    def _extension(self, ident: bytes, kind: type[ctypes.Structure]) -> ctypes.Structure | None:
        addr = self._fn.get_extension(self._ptr, ident)
        return kind.from_address(addr) if addr else None

    def _ports(self, is_input: bool) -> tuple[list[int], int]:
        if self._audio_ports is None:
            return [], 0
        info = abi.clap_audio_port_info()
        channels, main = [], 0
        for i in range(self._audio_ports.count(self._ptr, is_input)):
            if not self._audio_ports.get(self._ptr, i, is_input, byref(info)):
                raise PluginError(self._name, f"describes no {'input' if is_input else 'output'} port {i}")
            channels.append(int(info.channel_count))
            if info.flags & abi.CLAP_AUDIO_PORT_IS_MAIN and not main:
                main = i
        return channels, main

    def _dialect(self) -> int:
        if self._note_ports is None or self._note_ports.count(self._ptr, True) == 0:
            return 0
        info = abi.clap_note_port_info()
        if not self._note_ports.get(self._ptr, 0, True, byref(info)):
            return 0
        if info.supported_dialects & abi.CLAP_NOTE_DIALECT_MIDI:
            return abi.CLAP_NOTE_DIALECT_MIDI
        return info.supported_dialects & abi.CLAP_NOTE_DIALECT_CLAP

    def _read_parameters(self) -> None:
        infos, cookies, native, params = [], [], [], []
        seen: set[str] = set()
        info = abi.clap_param_info()
        text = ctypes.create_string_buffer(abi.CLAP_NAME_SIZE)
        count = self._params.count(self._ptr) if self._params is not None else 0
        for i in range(count):
            if not self._params.get_info(self._ptr, i, byref(info)):
                raise PluginError(self._name, f"describes no parameter {i}")
            name = _text(info.name) or f"Parameter {info.id}"
            ident, n = _snake(name), 2
            while ident in seen:
                ident, n = f"{_snake(name)}_{n}", n + 1
            seen.add(ident)
            lo, hi = float(info.min_value), float(info.max_value)
            choices: tuple[str, ...] = ()
            if info.flags & abi.CLAP_PARAM_IS_STEPPED and lo == 0 and hi == int(hi) and hi < MAX_CHOICES:
                texts = []
                for v in range(int(hi) + 1):
                    ok = self._params.value_to_text(self._ptr, info.id, float(v), text, abi.CLAP_NAME_SIZE)
                    texts.append(_text(text.value) if ok else "")
                if all(texts) and len(set(texts)) == len(texts) and not all(map(_is_number, texts)):
                    choices = tuple(texts)
            default = min(max(float(info.default_value), lo), hi)
            params.append(Parameter(ident, name, lo, hi, default, choices=choices, ramp=0.0))
            native.append(int(info.id))
            cookies.append(info.cookie or 0)
            infos.append(int(info.flags))
        self._all_params = tuple(params)
        self._index = {p.id: i for i, p in enumerate(params)}
        self._flags = infos
        self.native_ids = {p.id: native[i] for i, p in enumerate(params)}
        unlisted = abi.CLAP_PARAM_IS_READONLY | abi.CLAP_PARAM_IS_HIDDEN
        self.parameters = tuple(p for p, f in zip(params, infos, strict=True) if not f & unlisted)
        n = len(params)
        self._native = np.array(native, np.uint32)
        self._cookies = np.array(cookies, np.uint64)
        # Values set but not yet sent: a single-producer single-consumer ring of parameter
        # indexes, each queued at most once (flagged) and sent with its latest value.
        self._pending_value = np.zeros(n, np.float64)
        self._pending_flag = np.zeros(n, np.bool_)
        self._ring = np.zeros(max(n, 1), np.int64)
        self._head = self._tail = 0

    def _build_events(self) -> None:
        capacity = len(self._all_params) + MIDI_CAPACITY
        self._events = np.zeros(capacity, _EVENT)
        self._event_base = self._events.ctypes.data
        self._event_count = 0
        ev = self._events
        self._ev = {name: ev[name] for name in _EVENT.names}  # field views, made once
        self._callbacks = (
            abi.input_events_size(lambda events: self._event_count),
            abi.input_events_get(self._event_at),
            abi.output_events_try_push(lambda events, event: True),
        )
        self._in_events = abi.clap_input_events(None, self._callbacks[0], self._callbacks[1])
        self._out_events = abi.clap_output_events(None, self._callbacks[2])

    def _event_at(self, events: object, index: int) -> int | None:
        return self._event_base + index * _STRIDE if index < self._event_count else None

    # --- parameters ----------------------------------------------------------------------------

    def _param(self, ident: str) -> int:
        try:
            return self._index[ident]
        except KeyError:
            known = ", ".join(self._index) or "none"
            raise ValueError(f"{self._name} has no parameter {ident!r} (it has {known})") from None

    def set_parameter(self, ident: str, value: float) -> None:
        """Set parameter ``ident`` to ``value`` (the plugin's unit); takes effect from the next
        `process`, or at once while inactive. Audio-thread safe while active."""
        i = self._param(ident)
        if self._flags[i] & abi.CLAP_PARAM_IS_READONLY:
            raise ValueError(f"{self._name}'s parameter {ident!r} is read-only")
        v = self._all_params[i].check(value)
        self._pending_value[i] = v
        if not self._pending_flag[i]:
            self._pending_flag[i] = True
            self._ring[self._head % len(self._ring)] = i
            self._head += 1
        if not self._active:
            self._flush()

    def _take_pending(self) -> int:
        """Write the pending parameter values as events at frame 0; return how many."""
        ev = self._ev
        k = 0
        while self._tail != self._head:
            i = self._ring[self._tail % len(self._ring)]
            self._pending_flag[i] = False  # before reading the value: a newer one queues again
            ev["size"][k] = _P_SIZE
            ev["time"][k] = 0
            ev["space_id"][k] = 0
            ev["type"][k] = abi.CLAP_EVENT_PARAM_VALUE
            ev["flags"][k] = abi.CLAP_EVENT_IS_LIVE
            ev["param_id"][k] = self._native[i]
            ev["cookie"][k] = self._cookies[i]
            ev["p_note_id"][k] = -1
            ev["p_port"][k] = -1
            ev["p_channel"][k] = -1
            ev["p_key"][k] = -1
            ev["value"][k] = self._pending_value[i]
            self._tail += 1
            k += 1
        return k

    def _flush(self) -> None:
        if self._params is None or not self._params.flush:
            return
        self._event_count = self._take_pending()
        self._params.flush(self._ptr, byref(self._in_events), byref(self._out_events))
        self._event_count = 0

    def get_parameter(self, ident: str) -> float:
        """Return parameter ``ident``'s value as the plugin holds it."""
        i = self._param(ident)
        value = c_double()
        if not self._params.get_value(self._ptr, int(self._native[i]), byref(value)):
            raise PluginError(self._name, f"did not report parameter {ident!r}")
        return value.value

    # --- life cycle ----------------------------------------------------------------------------

    def activate(self, sample_rate: int, max_block: int) -> None:
        """Prepare to process at ``sample_rate`` in blocks of at most ``max_block`` frames."""
        if self._active:
            self.deactivate()
        self._build_audio(max_block)
        if not self._fn.activate(self._ptr, float(sample_rate), 1, max_block):
            raise PluginError(self._name, f"refused to activate at {sample_rate} Hz, blocks of {max_block}")
        if not self._fn.start_processing(self._ptr):
            self._fn.deactivate(self._ptr)
            raise PluginError(self._name, "refused to start processing")
        self._active = True
        self._host.restart_requested = False
        self._steady = 0

    def _build_audio(self, max_block: int) -> None:
        def ports(counts: list[int], main: int) -> tuple[np.ndarray, np.ndarray, ctypes.Array, list]:
            rows = np.zeros((sum(counts), max_block), np.float32)
            buffers = (abi.clap_audio_buffer * max(len(counts), 1))()
            keep, start = [], 0
            for p, n in enumerate(counts):
                channels = (POINTER(c_float) * max(n, 1))()
                for c in range(n):
                    channels[c] = ctypes.cast(rows[start + c].ctypes.data, POINTER(c_float))
                buffers[p].data32 = channels
                buffers[p].channel_count = n
                keep.append(channels)
                if p == main:
                    main_rows = rows[start : start + n]
                start += n
            if not counts:
                main_rows = rows
            return rows, main_rows, buffers, keep

        self._in_rows, self._in_main, self._in_buffers, keep_in = ports(self._in_ports, self._main_in)
        self._out_rows, self._out_main, self._out_buffers, keep_out = ports(self._out_ports, self._main_out)
        self._audio_keep = keep_in + keep_out
        self._proc = abi.clap_process(
            0, 0, None, self._in_buffers, self._out_buffers, len(self._in_ports), len(self._out_ports),
            ctypes.pointer(self._in_events), ctypes.pointer(self._out_events),
        )  # fmt: skip
        self._proc_addr = ctypes.addressof(self._proc)
        self._block = max_block
        self._out_main_t = self._out_main.T
        self._process_fn = self._fn.process
        self.errors = 0

    @property
    def restart_requested(self) -> bool:
        """Return whether the plugin asked to be deactivated and activated again (its latency
        or ports changed); `activate` clears it."""
        return self._host.restart_requested

    def idle(self) -> None:
        """Do what the plugin asked of the main thread: run its main-thread callback, and
        deliver queued parameter values while inactive. Call it from the control thread now
        and then (a few times a second)."""
        host = self._host
        if host.callback_requested:
            host.callback_requested = False
            self._fn.on_main_thread(self._ptr)
        if host.flush_requested:
            host.flush_requested = False
            if not self._active:
                self._flush()

    def deactivate(self) -> None:
        """Stop processing; the plugin may drop its tails."""
        if self._active:
            self._active = False
            self._fn.stop_processing(self._ptr)
            self._fn.deactivate(self._ptr)
            if self._tail != self._head:
                self._flush()

    def process(self, inputs: np.ndarray, outputs: np.ndarray, frames: int, midi: MidiBlock | None) -> None:
        """Run ``frames`` frames: float32 ``inputs[:frames]`` in, ``outputs[:frames]`` out, ``midi``
        on its frames. Audio-thread code: writes into preallocated buffers only; a plugin
        reporting an error yields silence and counts in ``errors``."""
        if frames <= 0:
            return
        whole = frames == self._block and inputs.shape[0] == outputs.shape[0] == frames
        if not self._in_main.shape[0]:
            pass
        elif whole:  # the usual case: skip slicing, a third of the copying's cost
            np.copyto(self._in_main, inputs.T)
        else:
            self._in_main[:, :frames] = inputs[:frames].T
        n = self._take_pending() if self._tail != self._head else 0
        if midi is not None and self._note_dialect:
            n = self._midi_events(midi, n, frames)
        self._event_count = n
        proc = self._proc
        proc.steady_time = self._steady
        proc.frames_count = frames
        status = self._process_fn(self._ptr, self._proc_addr)
        self._event_count = 0
        self._steady += frames
        if status == abi.CLAP_PROCESS_ERROR:
            self.errors += 1
            outputs[:frames] = 0.0
        elif whole:
            np.copyto(outputs, self._out_main_t)
        else:
            outputs[:frames] = self._out_main[:, :frames].T

    def _midi_events(self, midi: MidiBlock, n: int, frames: int) -> int:
        ev = self._ev
        count = min(int(midi.count[0]), len(self._events) - n)
        as_midi = self._note_dialect == abi.CLAP_NOTE_DIALECT_MIDI
        for i in range(count):
            status = int(midi.data[i, 0])
            kind = status & 0xF0
            frame = min(max(int(midi.frame[i]), 0), frames - 1)
            if as_midi:
                ev["size"][n] = _M_SIZE
                ev["type"][n] = abi.CLAP_EVENT_MIDI
                ev["m_port"][n] = 0
                ev["m_data"][n] = midi.data[i]
            elif kind == 0x90 or kind == 0x80:
                on = kind == 0x90 and midi.data[i, 2] > 0
                ev["size"][n] = _N_SIZE
                ev["type"][n] = abi.CLAP_EVENT_NOTE_ON if on else abi.CLAP_EVENT_NOTE_OFF
                ev["n_note_id"][n] = -1
                ev["n_port"][n] = 0
                ev["n_channel"][n] = status & 0x0F
                ev["n_key"][n] = midi.data[i, 1]
                ev["velocity"][n] = midi.data[i, 2] / 127.0
            else:
                continue
            ev["time"][n] = frame
            ev["space_id"][n] = 0
            ev["flags"][n] = abi.CLAP_EVENT_IS_LIVE
            n += 1
        return n

    @property
    def latency(self) -> int:
        """Return the latency the plugin reports, frames."""
        return int(self._latency.get(self._ptr)) if self._latency is not None else 0

    # --- state ---------------------------------------------------------------------------------

    def _stamp(self) -> bytes:
        return _STATE_MAGIC + self._name.encode() + b"\x00"

    def save_state(self) -> bytes:
        """Return the plugin's complete state, stamped with the plugin's id.

        A plugin without the CLAP state extension is saved as its parameter values.
        """
        if self._state is None:
            values = {p.id: self.get_parameter(p.id) for p in self.parameters}
            return self._stamp() + _PARAMS + json.dumps(values).encode()
        chunks = bytearray()

        def write(stream: object, buffer: int, size: int) -> int:
            chunks.extend(ctypes.string_at(buffer, size))
            return size

        callback = abi.ostream_write(write)
        stream = abi.clap_ostream(None, callback)
        if not self._state.save(self._ptr, byref(stream)):
            raise PluginError(self._name, "failed to save its state")
        return self._stamp() + _PLUGIN + bytes(chunks)

    def load_state(self, state: bytes) -> None:
        """Restore a state `save_state` returned; raise `PluginError` if it is not this plugin's
        or the plugin refuses it."""
        stamp = self._stamp()
        kind = bytes(state[len(stamp) : len(stamp) + 1])
        if bytes(state[: len(stamp)]) != stamp or kind not in (_PLUGIN, _PARAMS):
            raise PluginError(self._name, "the state given is not a saved state of this plugin")
        body = bytes(state[len(stamp) + 1 :])
        while self._tail != self._head:  # values queued before the state would undo it
            self._pending_flag[self._ring[self._tail % len(self._ring)]] = False
            self._tail += 1
        if kind == _PARAMS:
            self._load_values(body)
            return
        if self._state is None:
            raise PluginError(self._name, "cannot load a state saved by the plugin (no state extension)")
        payload = ctypes.create_string_buffer(body, len(body))
        pos = 0

        def read(stream: object, buffer: int, size: int) -> int:
            nonlocal pos
            n = min(size, len(body) - pos)
            ctypes.memmove(buffer, ctypes.addressof(payload) + pos, n)
            pos += n
            return n

        callback = abi.istream_read(read)
        stream = abi.clap_istream(None, callback)
        if not self._state.load(self._ptr, byref(stream)):
            raise PluginError(self._name, "refused the state given")

    def _load_values(self, body: bytes) -> None:
        try:
            values = json.loads(body)
            if not isinstance(values, dict):
                raise ValueError("not an object")
            listed = {p.id for p in self.parameters}
            for ident, value in values.items():
                if ident in listed:  # a parameter a newer or older version lacks is skipped
                    self.set_parameter(ident, value)
        except ValueError as e:
            raise PluginError(self._name, f"the parameter values saved are unreadable: {e}") from e

    # --- the end -------------------------------------------------------------------------------

    @property
    def log(self) -> list[tuple[int, str]]:
        """Return the plugin's latest log messages as (CLAP severity, text), oldest first."""
        return list(self._host.log) if self._ptr is not None else []

    def close(self) -> None:
        """Stop, destroy the instance and release its file (the last user deinitialises it)."""
        if self._ptr is not None:
            self.deactivate()
            self._fn.destroy(self._ptr)
            self._ptr = None
        if self._lib is not None:
            self._lib.release()
            self._lib = None

    def __del__(self) -> None:
        # a dropped instance must not leave the plugin pointing at freed host memory
        if getattr(self, "_ptr", None) is not None or getattr(self, "_lib", None) is not None:
            self.close()

    def __repr__(self) -> str:
        return f"ClapPlugin({self.info.path!r}, {self._name!r})" if hasattr(self, "info") else "ClapPlugin(...)"


_P_SIZE = ctypes.sizeof(abi.clap_event_param_value)
_N_SIZE = ctypes.sizeof(abi.clap_event_note)
_M_SIZE = ctypes.sizeof(abi.clap_event_midi)

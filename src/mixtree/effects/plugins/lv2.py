"""LV2 plugins through liblilv: `list_lv2` finds the installed ones, `Lv2Plugin` runs one.

One lilv world serves the process: it is made on first use and loads every bundle on
``LV2_PATH`` (lilv's default path when unset) once; `Lv2Plugin` also takes a bundle
directory, which it loads on demand. One URID map serves every instance, so saved states
mean the same everywhere. The host offers ``urid:map``/``urid:unmap``, ``options:options``
(block lengths, sample rate), ``buf-size:boundedBlockLength``,
``state:mapPath``/``state:freePath``/``state:loadDefaultState`` and ``worker:schedule``
(the work is done at once, inside the call that schedules it); ports may be audio
(side-chain inputs get silence), control, CV (silence) or atom (MIDI in, sequences out).

Threads: the constructor, `activate`, `deactivate`, `save_state`, `load_state` and `close`
are control-side and serialise on the world's lock; `process`, `set_parameter` and
`get_parameter` are audio-thread code. `load_state` must not run while `process` does.
"""

from __future__ import annotations

import ctypes
import math
import os
import threading
from collections import deque
from ctypes import POINTER, byref, c_float, c_int32, c_void_p
from dataclasses import dataclass

import numpy as np

from mixtree.effects.parameters import Parameter
from mixtree.effects.plugins import lilv
from mixtree.effects.plugins.base import MidiBlock, PluginInfo, kept_fp_env
from mixtree.errors import PluginError

#: Bytes of each atom port's buffer (a sequence header and 24-byte events).
ATOM_CAPACITY = 65536
#: The URI a saved state carries (lilv_state_to_string needs one).
STATE_URI = "urn:mixtree:lv2-state"

_ATOM_HEADER = 16  # LV2_Atom_Sequence: atom size/type, body unit/pad
_EVENT = np.dtype([("frames", "<i8"), ("size", "<u4"), ("type", "<u4"), ("data", "u1", 8)])  # a MIDI event
_STATE_FLAGS = lilv.STATE_IS_POD | lilv.STATE_IS_PORTABLE

_UNITS = {
    "db": "dB", "hz": "Hz", "khz": "kHz", "mhz": "MHz", "ms": "ms", "s": "s", "min": "min", "pc": "%",
    "bpm": "BPM", "bar": "bars", "beat": "beats", "cent": "cents", "semitone12TET": "semitones",
    "midiNote": "note", "frame": "frames", "degree": "°", "oct": "octaves", "m": "m", "cm": "cm", "mm": "mm",
    "km": "km", "inch": "in", "mile": "mi", "coef": "",
}  # fmt: skip
# lv2core properties a plugin may require that ask the host for nothing.
_HARMLESS = {lilv.LV2 + "hardRTCapable", lilv.LV2 + "inPlaceBroken", lilv.LV2 + "isLive"}
_PER_INSTANCE = {lilv.OPTIONS, lilv.WORKER_SCHEDULE}


class _World:
    """The process's lilv world, its URI nodes and its URID map (made once, kept for good)."""

    def __init__(self) -> None:
        try:
            self.lib = lilv.load()
        except OSError as e:
            raise PluginError("lv2", f"{e}: install Debian's liblilv-0-0") from e
        self.lock = threading.RLock()
        self.world = self.lib.lilv_world_new()
        self.lib.lilv_world_load_all(self.world)
        self._nodes: dict[str, int] = {}
        self._ids: dict[str, int] = {}
        self._uris: list[ctypes.Array] = [ctypes.create_string_buffer(b"")]  # URID 0 means "none"
        self._map_lock = threading.Lock()
        # The callbacks and structs the plugins hold pointers to live as long as the world.
        self._map_cb = lilv.MapFunc(lambda _h, uri: self.map(uri.decode()))
        self._unmap_cb = lilv.UnmapFunc(self._unmap)
        self.urid_map = lilv.URIDMap(None, self._map_cb)
        self.urid_unmap = lilv.URIDUnmap(None, self._unmap_cb)
        libc = ctypes.CDLL(None)
        self._strdup = libc.strdup
        self._strdup.restype, self._strdup.argtypes = c_void_p, [ctypes.c_char_p]
        free = libc.free
        free.restype, free.argtypes = None, [c_void_p]
        self._path_cb = lilv.PathFunc(lambda _h, path: self._strdup(path))  # paths stay as they are
        self._free_cb = lilv.FreePathFunc(lambda _h, p: free(p))
        self.map_path = lilv.StateMapPath(None, self._path_cb, self._path_cb)
        self.free_path = lilv.StateFreePath(None, self._free_cb)
        self.features = {
            lilv.URID_MAP: ctypes.addressof(self.urid_map),
            lilv.URID_UNMAP: ctypes.addressof(self.urid_unmap),
            lilv.STATE_MAP_PATH: ctypes.addressof(self.map_path),
            lilv.STATE_FREE_PATH: ctypes.addressof(self.free_path),
            lilv.BOUNDED_BLOCK: None,
            lilv.LOAD_DEFAULT_STATE: None,
        }

    def map(self, uri: str) -> int:
        """Return the URID of ``uri``, giving it the next one if new (thread-safe)."""
        urid = self._ids.get(uri)
        if urid is None:
            with self._map_lock:
                urid = self._ids.get(uri)
                if urid is None:
                    urid = len(self._uris)
                    self._uris.append(ctypes.create_string_buffer(uri.encode()))
                    self._ids[uri] = urid
        return urid

    def _unmap(self, _handle: int, urid: int) -> int | None:
        if 0 < urid < len(self._uris):
            return ctypes.addressof(self._uris[urid])
        return None

    def node(self, uri: str) -> int:
        """Return a shared lilv URI node for ``uri`` (never freed)."""
        node = self._nodes.get(uri)
        if node is None:
            node = self._nodes[uri] = self.lib.lilv_new_uri(self.world, uri.encode())
        return node

    def string(self, node: int | None, *, free: bool = False) -> str:
        """Return ``node`` as text ("" for NULL), freeing it if the caller owns it."""
        if not node:
            return ""
        text = (self.lib.lilv_node_as_string(node) or b"").decode(errors="replace")
        if free:
            self.lib.lilv_node_free(node)
        return text

    def number(self, node: int | None, fallback: float | None) -> float | None:
        """Return a numeric or boolean ``node`` as a float, else ``fallback``; frees ``node``."""
        if not node:
            return fallback
        lib = self.lib
        if lib.lilv_node_is_float(node) or lib.lilv_node_is_int(node):
            value: float | None = float(lib.lilv_node_as_float(node))
        elif lib.lilv_node_is_bool(node):
            value = float(lib.lilv_node_as_bool(node))
        else:
            value = fallback
        lib.lilv_node_free(node)
        return value

    def path(self, uri_node: int) -> str:
        """Return the local path of a file URI node."""
        raw = self.lib.lilv_file_uri_parse(self.lib.lilv_node_as_uri(uri_node), None)
        if not raw:
            return self.string(uri_node)
        text = ctypes.string_at(raw).decode(errors="replace")
        self.lib.lilv_free(raw)
        return text

    def plugins(self) -> list[int]:
        """Return every plugin the world knows."""
        lib, plugins = self.lib, self.lib.lilv_world_get_all_plugins(self.world)
        found = []
        it = lib.lilv_plugins_begin(plugins)
        while not lib.lilv_plugins_is_end(plugins, it):
            found.append(lib.lilv_plugins_get(plugins, it))
            it = lib.lilv_plugins_next(plugins, it)
        return found


_state = threading.Lock()
_the_world: _World | None = None


def _world() -> _World:
    global _the_world
    with _state:
        if _the_world is None:
            _the_world = _World()
        return _the_world


@dataclass(frozen=True, slots=True)
class _Port:
    index: int
    symbol: str
    kind: str  # audio, control, cv, atom or other
    output: bool
    sidechain: bool
    midi: bool
    optional: bool
    minimum_size: int


def _ports(w: _World, plugin: int) -> list[_Port]:
    lib, found = w.lib, []
    lv2 = lilv.LV2
    for i in range(lib.lilv_plugin_get_num_ports(plugin)):
        port = lib.lilv_plugin_get_port_by_index(plugin, i)

        def is_a(uri: str, port: int = port) -> bool:
            return bool(lib.lilv_port_is_a(plugin, port, w.node(uri)))

        def has(uri: str, port: int = port) -> bool:
            return bool(lib.lilv_port_has_property(plugin, port, w.node(uri)))

        kind = next(
            (k for k, uri in (("audio", lv2 + "AudioPort"), ("control", lv2 + "ControlPort"),
                              ("cv", lv2 + "CVPort"), ("atom", lilv.ATOM + "AtomPort")) if is_a(uri)),
            "other",
        )  # fmt: skip
        size = w.number(lib.lilv_port_get(plugin, port, w.node("http://lv2plug.in/ns/ext/resize-port#minimumSize")), 0)
        found.append(
            _Port(
                index=i,
                symbol=w.string(lib.lilv_port_get_symbol(plugin, port)),
                kind=kind,
                output=is_a(lv2 + "OutputPort"),
                sidechain=has(lv2 + "isSideChain"),
                midi=kind == "atom" and bool(lib.lilv_port_supports_event(plugin, port, w.node(lilv.MIDI_EVENT))),
                optional=has(lv2 + "connectionOptional"),
                minimum_size=int(size or 0),
            )
        )
    return found


def _main_audio(ports: list[_Port], output: bool) -> list[_Port]:
    return [p for p in ports if p.kind == "audio" and p.output == output and not p.sidechain]


def _info(w: _World, plugin: int, ports: list[_Port]) -> PluginInfo:
    lib = w.lib
    vendor = w.string(lib.lilv_plugin_get_author_name(plugin), free=True)
    if not vendor:
        project = lib.lilv_plugin_get_project(plugin)
        if project:
            vendor = w.string(lib.lilv_world_get(w.world, project, w.node(lilv.DOAP + "name"), None), free=True)
            lib.lilv_node_free(project)

    def first_number(predicate: str) -> float | None:
        values = lib.lilv_plugin_get_value(plugin, w.node(predicate))
        if not values:
            return None
        number = w.number(lib.lilv_node_duplicate(lib.lilv_nodes_get_first(values)), None)
        lib.lilv_nodes_free(values)
        return number

    minor, micro = first_number(lilv.LV2 + "minorVersion"), first_number(lilv.LV2 + "microVersion")
    version = f"{int(minor)}.{int(micro or 0)}" if minor is not None else ""
    return PluginInfo(
        format="lv2",
        uri=w.string(lib.lilv_plugin_get_uri(plugin)),
        path=w.path(lib.lilv_plugin_get_bundle_uri(plugin)).rstrip("/"),
        name=w.string(lib.lilv_plugin_get_name(plugin), free=True),
        vendor=vendor,
        version=version,
        inputs=len(_main_audio(ports, False)),
        outputs=len(_main_audio(ports, True)),
        instrument=any(p.midi and not p.output for p in ports),
    )


def list_lv2() -> list[PluginInfo]:
    """Return every installed LV2 plugin (on ``LV2_PATH``), in URI order.

    Returns
    -------
    list of PluginInfo
        ``uri`` the plugin URI, ``path`` its bundle directory, audio channel counts
        without side-chains, ``instrument`` when an atom input takes MIDI.
    """
    w = _world()
    with w.lock:
        return [_info(w, p, _ports(w, p)) for p in w.plugins()]


def _find(w: _World, plugin: str) -> int:
    lib = w.lib
    if os.path.isdir(plugin):
        bundle = lib.lilv_new_file_uri(w.world, None, (os.path.abspath(plugin).rstrip("/") + "/").encode())
        lib.lilv_world_load_bundle(w.world, bundle)
        found = [p for p in w.plugins() if lib.lilv_node_equals(lib.lilv_plugin_get_bundle_uri(p), bundle)]
        lib.lilv_node_free(bundle)
        if len(found) != 1:
            raise PluginError(plugin, f"the bundle holds {len(found)} LV2 plugins, not one: load one by URI")
        return found[0]
    found = lib.lilv_plugins_get_by_uri(lib.lilv_world_get_all_plugins(w.world), w.node(plugin))
    if not found:
        raise PluginError(plugin, "no such LV2 plugin is installed (is its bundle on LV2_PATH?)")
    return found


def _unit(w: _World, plugin: int, port: int) -> str:
    node = w.lib.lilv_port_get(plugin, port, w.node(lilv.UNITS + "unit"))
    if not node:
        return ""
    if w.lib.lilv_node_is_uri(node):
        uri = w.string(node)
        if uri.startswith(lilv.UNITS) and uri[len(lilv.UNITS) :] in _UNITS:
            w.lib.lilv_node_free(node)
            return _UNITS[uri[len(lilv.UNITS) :]]
    symbol = w.lib.lilv_world_get(w.world, node, w.node(lilv.UNITS + "symbol"), None)
    w.lib.lilv_node_free(node)
    return w.string(symbol, free=True)


def _scale_points(w: _World, plugin: int, port: int) -> list[tuple[float, str]]:
    lib = w.lib
    lib_points = lib.lilv_port_get_scale_points(plugin, port)
    if not lib_points:
        return []
    points = []
    it = lib.lilv_scale_points_begin(lib_points)
    while not lib.lilv_scale_points_is_end(lib_points, it):
        point = lib.lilv_scale_points_get(lib_points, it)
        value = w.number(lib.lilv_node_duplicate(lib.lilv_scale_point_get_value(point)), None)
        if value is not None:
            points.append((value, w.string(lib.lilv_scale_point_get_label(point))))
        it = lib.lilv_scale_points_next(lib_points, it)
    lib.lilv_scale_points_free(lib_points)
    return sorted(points)


def _parameter(
    w: _World, plugin: int, index: int, symbol: str, sample_rate: int
) -> tuple[Parameter, tuple[float, ...], float]:
    """Describe a control input: the parameter, its choices' port values and its port default."""
    lib = w.lib
    port = lib.lilv_plugin_get_port_by_index(plugin, index)

    def has(prop: str) -> bool:
        return bool(lib.lilv_port_has_property(plugin, port, w.node(prop)))

    name = w.string(lib.lilv_port_get_name(plugin, port), free=True) or symbol
    default, lo, hi = c_void_p(), c_void_p(), c_void_p()
    lib.lilv_port_get_range(plugin, port, byref(default), byref(lo), byref(hi))
    lo_v = w.number(lo.value, 0.0)
    hi_v = w.number(hi.value, 1.0)
    lo_v, hi_v = min(lo_v, hi_v), max(lo_v, hi_v)
    def_v = min(max(w.number(default.value, lo_v), lo_v), hi_v)
    if has(lilv.LV2 + "sampleRate"):  # the range is in fractions of the sample rate
        lo_v, hi_v, def_v = lo_v * sample_rate, hi_v * sample_rate, def_v * sample_rate

    stepped = has(lilv.LV2 + "integer") or has(lilv.LV2 + "toggled")
    points = _scale_points(w, plugin, port) if stepped or has(lilv.LV2 + "enumeration") else []
    values = tuple(v for v, _ in points)
    # Scale points label a discrete port completely when it is an enumeration or when they
    # name every whole value of an integer range; otherwise they only mark a few values.
    complete = has(lilv.LV2 + "enumeration") or (
        stepped and hi_v - lo_v < 1024 and set(range(math.ceil(lo_v), math.floor(hi_v) + 1)) <= set(values)
    )
    unit = _unit(w, plugin, port)
    if points and complete:
        chosen = min(range(len(values)), key=lambda k: abs(values[k] - def_v))
        labels = tuple(label or f"{v:g}" for v, label in points)
        param = Parameter(symbol, name, 0.0, float(len(values) - 1), float(chosen), unit, choices=labels, ramp=0.0)
        return param, values, def_v
    scale = "db" if unit == "dB" else "log" if has(lilv.PORT_PROPS + "logarithmic") else "linear"
    jumps = {"ramp": 0.0} if stepped else {}
    return Parameter(symbol, name, lo_v, hi_v, def_v, unit, scale, **jumps), (), def_v


class Lv2Plugin:
    """One LV2 plugin instance (a `PluginInstance`).

    Parameters
    ----------
    plugin : str
        The plugin's URI, or the path of a bundle directory holding exactly one plugin.
    sample_rate : int
        The rate to instantiate at (and to scale ``lv2:sampleRate`` port ranges by);
        `activate` at another rate instantiates again, carrying the state over.
    max_block : int
        The longest block to expect, frames (a longer one at `activate` re-instantiates).

    Raises
    ------
    PluginError
        No such plugin, a feature or port kind this host lacks, or instantiation failed.
    """

    def __init__(self, plugin: str, sample_rate: int = 48000, max_block: int = 4096) -> None:
        self._w = w = _world()
        lib = w.lib
        self._instance: ctypes._Pointer | None = None
        self._active = False
        self._responses: deque[bytes] = deque()
        self._schedule_cb = lilv.ScheduleFunc(self._schedule_work)
        self._respond_cb = lilv.ScheduleFunc(self._respond)
        with w.lock:
            self._plugin = _find(w, plugin)
            self._ports = _ports(w, self._plugin)
            self.info = _info(w, self._plugin, self._ports)
            self._name = self.info.uri
            self._check_supported()
            self._index = {p.symbol: p.index for p in self._ports if p.kind == "control"}
            self._controls = np.zeros(len(self._ports), np.float32)
            params, self._choices = [], {}
            for p in self._ports:
                if p.kind == "control" and not p.output:
                    param, values, port_default = _parameter(w, self._plugin, p.index, p.symbol, int(sample_rate))
                    params.append(param)
                    self._choices[p.symbol] = values
                    self._controls[p.index] = port_default
            self.parameters: tuple[Parameter, ...] = tuple(params)
            self._params = {p.id: p for p in params}
            self._readouts = tuple(p.symbol for p in self._ports if p.kind == "control" and p.output)
            self._latency_port = self._find_latency_port()
            self._instantiate(int(sample_rate), int(max_block))
            if lib.lilv_plugin_has_feature(self._plugin, w.node(lilv.LOAD_DEFAULT_STATE)):
                uri = lib.lilv_plugin_get_uri(self._plugin)
                self._apply(lib.lilv_state_new_from_world(w.world, byref(w.urid_map), uri), "its default state")

    def __repr__(self) -> str:
        return f"Lv2Plugin({self.info.uri!r})"

    @property
    def readouts(self) -> tuple[str, ...]:
        """Return the symbols of the control outputs (meters), readable with `get_parameter`."""
        return self._readouts

    def _check_supported(self) -> None:
        lib, w = self._w.lib, self._w
        required = lib.lilv_plugin_get_required_features(self._plugin)
        missing = []
        if required:
            it = lib.lilv_nodes_begin(required)
            while not lib.lilv_nodes_is_end(required, it):
                uri = w.string(lib.lilv_nodes_get(required, it))
                if uri not in w.features and uri not in _PER_INSTANCE and uri not in _HARMLESS:
                    missing.append(uri)
                it = lib.lilv_nodes_next(required, it)
            lib.lilv_nodes_free(required)
        if missing:
            raise PluginError(self._name, f"needs host features mixtree lacks: {', '.join(missing)}")
        odd = [p.symbol for p in self._ports if p.kind == "other" and not p.optional]
        if odd:
            raise PluginError(self._name, f"has ports of a kind mixtree cannot connect: {', '.join(odd)}")

    def _find_latency_port(self) -> int | None:
        lib, w = self._w.lib, self._w
        for p in self._ports:
            if p.kind != "control" or not p.output:
                continue
            port = lib.lilv_plugin_get_port_by_index(self._plugin, p.index)
            if lib.lilv_port_has_property(self._plugin, port, w.node(lilv.LV2 + "reportsLatency")):
                return p.index
            designation = lib.lilv_port_get(self._plugin, port, w.node(lilv.LV2 + "designation"))
            if w.string(designation, free=True) == lilv.LV2 + "latency":
                return p.index
        return None

    def _instantiate(self, sample_rate: int, max_block: int) -> None:
        """Make the instance and its buffers and connect every port (world lock held)."""
        w, lib = self._w, self._w.lib
        ints = lilv.ATOM + "Int"
        # No shortest block: activate runs 0 frames to read the latency port.
        self._option_values = (c_int32 * 4)(0, max_block, max_block, ATOM_CAPACITY)
        self._rate_value = c_float(sample_rate)
        options = [
            (lilv.BUF_SIZE + "minBlockLength", ints, ctypes.addressof(self._option_values)),
            (lilv.BUF_SIZE + "maxBlockLength", ints, ctypes.addressof(self._option_values) + 4),
            (lilv.BUF_SIZE + "nominalBlockLength", ints, ctypes.addressof(self._option_values) + 8),
            (lilv.BUF_SIZE + "sequenceSize", ints, ctypes.addressof(self._option_values) + 12),
            (lilv.SAMPLE_RATE, lilv.ATOM + "Float", ctypes.addressof(self._rate_value)),
        ]
        self._options = (lilv.OptionsOption * (len(options) + 1))(
            *[lilv.OptionsOption(0, 0, w.map(key), 4, w.map(kind), value) for key, kind, value in options]
        )
        self._schedule = lilv.WorkerSchedule(None, self._schedule_cb)
        features = {
            **w.features,
            lilv.OPTIONS: ctypes.addressof(self._options),
            lilv.WORKER_SCHEDULE: ctypes.addressof(self._schedule),
        }
        self._feature_structs = [lilv.LV2Feature(uri.encode(), data) for uri, data in features.items()]
        self._features = (POINTER(lilv.LV2Feature) * (len(features) + 1))(
            *[ctypes.pointer(f) for f in self._feature_structs]
        )
        with kept_fp_env():
            instance = lib.lilv_plugin_instantiate(self._plugin, float(sample_rate), self._features)
        if not instance:
            raise PluginError(self._name, f"could not be instantiated at {sample_rate} Hz")
        self._instance = instance
        self._rate, self._max_block = sample_rate, max_block
        descriptor = instance.contents.lv2_descriptor.contents
        self._handle = c_void_p(instance.contents.lv2_handle)
        self._run = descriptor.run
        self._activate_fn, self._deactivate_fn = descriptor.activate, descriptor.deactivate
        connect = descriptor.connect_port
        worker = descriptor.extension_data(lilv.WORKER_INTERFACE.encode()) if descriptor.extension_data else None
        self._worker = lilv.WorkerInterface.from_address(worker) if worker else None
        if self._worker is not None:  # each read of a struct's function pointer makes an object
            self._work = self._worker.work
            self._work_response, self._work_end_run = self._worker.work_response, self._worker.end_run
        self._responses.clear()

        ins, outs = _main_audio(self._ports, False), _main_audio(self._ports, True)
        self._in = np.zeros((len(ins), max_block), np.float32)
        self._out = np.zeros((len(outs), max_block), np.float32)
        self._in_t, self._out_t = self._in.T, self._out.T  # (frames, channels) views of the port rows
        self._silence = np.zeros(max_block, np.float32)  # side-chain and CV inputs
        self._scratch = np.zeros(max_block, np.float32)  # side-chain and CV outputs nobody reads
        self._atoms: list[np.ndarray] = []
        self._atom_outputs: list[tuple[np.ndarray, int]] = []
        self._midi: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
        self._chunk, self._sequence = w.map(lilv.ATOM + "Chunk"), w.map(lilv.ATOM + "Sequence")
        for p in self._ports:
            if p.kind == "audio" and not p.sidechain:
                rows = self._out if p.output else self._in
                where = rows[(outs if p.output else ins).index(p)].ctypes.data
            elif p.kind in ("audio", "cv"):
                where = (self._scratch if p.output else self._silence).ctypes.data
            elif p.kind == "control":
                where = self._controls.ctypes.data + 4 * p.index
            elif p.kind == "atom":
                size = max(ATOM_CAPACITY, p.minimum_size)
                buffer = np.zeros((size + 7) // 8, np.uint64)  # 64-bit aligned, as atoms must be
                self._atoms.append(buffer)
                header = buffer.view(np.uint32)[:4]
                if p.output:
                    self._atom_outputs.append((header, size - 8))
                    header[:] = (size - 8, self._chunk, 0, 0)
                else:
                    header[:] = (8, self._sequence, 0, 0)  # an empty sequence, timed in frames
                    if p.midi and self._midi is None:
                        events = buffer.view(np.uint8)[_ATOM_HEADER:]
                        count = (len(events) // _EVENT.itemsize) * _EVENT.itemsize
                        table = events[:count].view(_EVENT)
                        table["size"] = 3
                        table["type"] = w.map(lilv.MIDI_EVENT)
                        self._midi = (header, table["frames"], table["size"], table["data"][:, :3])
                where = buffer.ctypes.data
            else:
                where = None
            connect(self._handle, p.index, where)

    def activate(self, sample_rate: int, max_block: int) -> None:
        """Prepare to process at ``sample_rate`` in blocks of at most ``max_block`` frames.

        Another rate, or a longer block than instantiated for, makes a new instance that
        takes over the old one's state.
        """
        with self._w.lock:
            self._require_open()
            if self._active:
                self.deactivate()
            if int(sample_rate) != self._rate or int(max_block) > self._max_block:
                state = self._state_bytes()
                self._free_instance()
                self._instantiate(int(sample_rate), max(int(max_block), 1))
                self._restore(state)
            if self._activate_fn:
                self._activate_fn(self._handle)
            self._active = True
            # A latency port holds its value only once the plugin has run.
            self._run(self._handle, 0)

    def deactivate(self) -> None:
        """Stop processing (the plugin may drop tails and internal state)."""
        with self._w.lock:
            if self._active and self._instance and self._deactivate_fn:
                self._deactivate_fn(self._handle)
            self._active = False

    def set_parameter(self, ident: str, value: float) -> None:
        """Set control input ``ident`` (a port symbol) to ``value``, in effect from the next
        `process`; a choice takes its index. Audio-thread safe.

        Raises
        ------
        ValueError
            An unknown or read-only ``ident`` or a value out of range.
        """
        param = self._params.get(ident)
        if param is None:
            raise ValueError(f"{ident!r} is not a parameter of {self.info.uri}: one of {', '.join(self._params)}")
        v = param.check(value)
        choices = self._choices[ident]
        self._controls[self._index[ident]] = choices[int(v)] if choices else v

    def get_parameter(self, ident: str) -> float:
        """Return control port ``ident``'s value (a choice's index; outputs too, such as meters)."""
        index = self._index.get(ident)
        if index is None:
            raise ValueError(f"{ident!r} is not a control port of {self.info.uri}")
        value = float(self._controls[index])
        choices = self._choices.get(ident)
        if choices:
            return float(min(range(len(choices)), key=lambda k: abs(choices[k] - value)))
        return value

    def process(self, inputs: np.ndarray, outputs: np.ndarray, frames: int, midi: MidiBlock | None) -> None:
        """Run ``frames`` frames: float32 ``inputs[:frames]`` ``(max_block, info.inputs)`` in,
        ``outputs[:frames]`` ``(max_block, info.outputs)`` out; ``midi`` events (frames within
        the block, in order) reach the plugin's MIDI input. Audio-thread code: copies into
        the preallocated port buffers, allocates no arrays."""
        if frames > self._max_block:
            raise ValueError(f"{frames} frames is longer than the {self._max_block} activated for")
        if self._in.shape[0]:
            self._in_t[:frames] = inputs[:frames]
        if self._midi is not None:
            header, at, size, data = self._midi
            n = 0
            if midi is not None:
                n = min(int(midi.count[0]), len(at))
                at[:n] = midi.frame[:n]
                size[:n] = midi.size[:n]
                data[:n] = midi.data[:n]
            header[0] = 8 + n * _EVENT.itemsize
        for header, capacity in self._atom_outputs:  # the plugin overwrote them last block
            header[0] = capacity
            header[1] = self._chunk
        self._run(self._handle, frames)
        if self._worker is not None:
            self._end_run()
        if self._out.shape[0]:
            outputs[:frames] = self._out_t[:frames]

    def _schedule_work(self, _handle: int, size: int, data: int) -> int:
        # The work is done at once, inside run(): rendering stays deterministic, at the
        # cost of real-time safety for the (few) plugins that schedule work while playing.
        if self._worker is None:
            return 1  # LV2_WORKER_ERR_UNKNOWN: scheduled during instantiate
        return self._work(self._handle, self._respond_cb, None, size, data)

    def _respond(self, _handle: int, size: int, data: int) -> int:
        self._responses.append(ctypes.string_at(data, size))
        return 0

    def _end_run(self) -> None:
        """Hand the worker's responses to the plugin and end its run (audio thread)."""
        while self._responses:
            body = self._responses.popleft()
            self._work_response(self._handle, len(body), body)
        if self._work_end_run:
            self._work_end_run(self._handle)

    @property
    def latency(self) -> int:
        """Return the latency the plugin reports on its latency port, frames (0 without one)."""
        if self._latency_port is None:
            return 0
        return max(0, round(float(self._controls[self._latency_port])))

    def _get_port_value(self, symbol: bytes, _user: int, size: ctypes._Pointer, kind: ctypes._Pointer) -> int | None:
        index = self._index.get(symbol.decode())
        if index is None or self._ports[index].output:
            size[0] = kind[0] = 0
            return None
        size[0], kind[0] = 4, self._w.map(lilv.ATOM + "Float")
        return self._controls.ctypes.data + 4 * index

    def _set_port_value(self, symbol: bytes, _user: int, value: int, size: int, kind: int) -> None:
        index = self._index.get(symbol.decode())
        if index is None or self._ports[index].output or not value:
            return
        atom = lilv.ATOM
        readers = {
            self._w.map(atom + "Float"): c_float, self._w.map(atom + "Double"): ctypes.c_double,
            self._w.map(atom + "Int"): c_int32, self._w.map(atom + "Long"): ctypes.c_int64,
            self._w.map(atom + "Bool"): c_int32,
        }  # fmt: skip
        reader = readers.get(kind)
        if reader is not None and size >= ctypes.sizeof(reader):
            self._controls[index] = reader.from_address(value).value

    def _state_bytes(self) -> bytes:
        """Return the instance's state with its control values as Turtle (world lock held)."""
        w, lib = self._w, self._w.lib
        get_value = lilv.GetPortValueFunc(self._get_port_value)
        state = lib.lilv_state_new_from_instance(
            self._plugin, self._instance, byref(w.urid_map), None, None, None, None,
            get_value, None, _STATE_FLAGS, self._features,
        )  # fmt: skip
        if not state:
            raise PluginError(self._name, "would not save its state")
        try:
            raw = lib.lilv_state_to_string(
                w.world, byref(w.urid_map), byref(w.urid_unmap), state, STATE_URI.encode(), None
            )
        finally:
            lib.lilv_state_free(state)
        if not raw:
            raise PluginError(self._name, "its state could not be written")
        text = ctypes.string_at(raw)  # UTF-8, unless a plugin saved a string that is not
        lib.lilv_free(raw)
        return text

    def _restore(self, text: bytes) -> None:
        """Restore a state `_state_bytes` wrote (world lock held)."""
        w, lib = self._w, self._w.lib
        self._apply(lib.lilv_state_new_from_string(w.world, byref(w.urid_map), text), "the state")

    def _apply(self, state: int | None, what: str) -> None:
        """Restore a lilv state, then free it (world lock held)."""
        w, lib = self._w, self._w.lib
        if not state:
            raise PluginError(self._name, f"refused {what}: it is not an LV2 state")
        try:
            uri = w.string(lib.lilv_state_get_plugin_uri(state))
            if uri != self.info.uri:
                raise PluginError(self._name, f"refused {what}: it belongs to {uri or 'no plugin'}")
            set_value = lilv.SetPortValueFunc(self._set_port_value)
            lib.lilv_state_restore(state, self._instance, set_value, None, _STATE_FLAGS, self._features)
        finally:
            lib.lilv_state_free(state)

    def save_state(self) -> bytes:
        """Return the plugin's state and control values (an LV2 state in Turtle, UTF-8)."""
        with self._w.lock:
            self._require_open()
            return self._state_bytes()

    def load_state(self, state: bytes) -> None:
        """Restore a state `save_state` returned; raise `PluginError` if it is not one of
        this plugin's. Not while `process` runs."""
        try:
            text = bytes(state)
        except TypeError as e:
            raise PluginError(self._name, f"refused the state: {type(state).__name__} is not bytes") from e
        if b"\0" in text:
            raise PluginError(self._name, "refused the state: it is not Turtle text")
        with self._w.lock:
            self._require_open()
            self._restore(text)

    def _require_open(self) -> None:
        if not self._instance:
            raise PluginError(self._name, "is closed")

    def _free_instance(self) -> None:
        if self._instance:
            if self._active and self._deactivate_fn:
                self._deactivate_fn(self._handle)
            self._active = False
            self._w.lib.lilv_instance_free(self._instance)
            self._instance = None

    def close(self) -> None:
        """Free the instance (its library is unloaded when no other instance uses it)."""
        with self._w.lock:
            self._free_instance()

    def __del__(self) -> None:
        if getattr(self, "_instance", None):
            self.close()

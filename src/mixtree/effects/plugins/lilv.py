"""The raw lilv C API (Debian's ``liblilv-0.so.0``) and the LV2 structs a host fills, as ctypes.

Only what `mixtree.effects.plugins.lv2` uses is declared. ``lilv_instance_run`` and the
other ``lilv_instance_*`` calls are inline in ``lilv.h``, so the library does not export
them: `LilvInstance` and `LV2Descriptor` mirror the structs they read instead. `load`
returns the library with every prototype set, or raises `OSError` if it is not installed.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char_p,
    c_double,
    c_float,
    c_int,
    c_uint32,
    c_void_p,
)

#: Library names tried in order (the Debian soname first).
NAMES = ("liblilv-0.so.0", "lilv-0")

LV2 = "http://lv2plug.in/ns/lv2core#"
ATOM = "http://lv2plug.in/ns/ext/atom#"
URID_MAP = "http://lv2plug.in/ns/ext/urid#map"
URID_UNMAP = "http://lv2plug.in/ns/ext/urid#unmap"
OPTIONS = "http://lv2plug.in/ns/ext/options#options"
BUF_SIZE = "http://lv2plug.in/ns/ext/buf-size#"
BOUNDED_BLOCK = BUF_SIZE + "boundedBlockLength"
STATE_MAP_PATH = "http://lv2plug.in/ns/ext/state#mapPath"
STATE_FREE_PATH = "http://lv2plug.in/ns/ext/state#freePath"
LOAD_DEFAULT_STATE = "http://lv2plug.in/ns/ext/state#loadDefaultState"
WORKER_SCHEDULE = "http://lv2plug.in/ns/ext/worker#schedule"
WORKER_INTERFACE = "http://lv2plug.in/ns/ext/worker#interface"
SAMPLE_RATE = "http://lv2plug.in/ns/ext/parameters#sampleRate"
MIDI_EVENT = "http://lv2plug.in/ns/ext/midi#MidiEvent"
UNITS = "http://lv2plug.in/ns/extensions/units#"
PORT_PROPS = "http://lv2plug.in/ns/ext/port-props#"
DOAP = "http://usefulinc.com/ns/doap#"

#: LV2_State_Flags: a state made of plain values that survives a move to another machine.
STATE_IS_POD = 1
STATE_IS_PORTABLE = 2


class LV2Feature(Structure):
    """``LV2_Feature``: a feature URI and its data."""

    _fields_ = [("URI", c_char_p), ("data", c_void_p)]


MapFunc = CFUNCTYPE(c_uint32, c_void_p, c_char_p)
UnmapFunc = CFUNCTYPE(c_void_p, c_void_p, c_uint32)  # returns a char* the host keeps alive
PathFunc = CFUNCTYPE(c_void_p, c_void_p, c_char_p)  # returns a malloc'ed char* the plugin frees
FreePathFunc = CFUNCTYPE(None, c_void_p, c_void_p)
GetPortValueFunc = CFUNCTYPE(c_void_p, c_char_p, c_void_p, POINTER(c_uint32), POINTER(c_uint32))
SetPortValueFunc = CFUNCTYPE(None, c_char_p, c_void_p, c_void_p, c_uint32, c_uint32)

ScheduleFunc = CFUNCTYPE(c_uint32, c_void_p, c_uint32, c_void_p)  # also a worker's respond function
WorkFunc = CFUNCTYPE(c_uint32, c_void_p, ScheduleFunc, c_void_p, c_uint32, c_void_p)
WorkResponseFunc = CFUNCTYPE(c_uint32, c_void_p, c_uint32, c_void_p)
EndRunFunc = CFUNCTYPE(c_uint32, c_void_p)
ExtensionDataFunc = CFUNCTYPE(c_void_p, c_char_p)
ConnectPortFunc = CFUNCTYPE(None, c_void_p, c_uint32, c_void_p)
HandleFunc = CFUNCTYPE(None, c_void_p)
RunFunc = CFUNCTYPE(None, c_void_p, c_uint32)


class URIDMap(Structure):
    """``LV2_URID_Map``."""

    _fields_ = [("handle", c_void_p), ("map", MapFunc)]


class URIDUnmap(Structure):
    """``LV2_URID_Unmap``."""

    _fields_ = [("handle", c_void_p), ("unmap", UnmapFunc)]


class StateMapPath(Structure):
    """``LV2_State_Map_Path``."""

    _fields_ = [("handle", c_void_p), ("abstract_path", PathFunc), ("absolute_path", PathFunc)]


class StateFreePath(Structure):
    """``LV2_State_Free_Path``."""

    _fields_ = [("handle", c_void_p), ("free_path", FreePathFunc)]


class WorkerSchedule(Structure):
    """``LV2_Worker_Schedule``."""

    _fields_ = [("handle", c_void_p), ("schedule_work", ScheduleFunc)]


class WorkerInterface(Structure):
    """``LV2_Worker_Interface`` (``end_run`` may be NULL)."""

    _fields_ = [("work", WorkFunc), ("work_response", WorkResponseFunc), ("end_run", EndRunFunc)]


class OptionsOption(Structure):
    """``LV2_Options_Option`` (context 0: the instance itself)."""

    _fields_ = [
        ("context", c_int),
        ("subject", c_uint32),
        ("key", c_uint32),
        ("size", c_uint32),
        ("type", c_uint32),
        ("value", c_void_p),
    ]


class LV2Descriptor(Structure):
    """``LV2_Descriptor``: the plugin's entry points (``activate``/``deactivate`` may be NULL)."""

    _fields_ = [
        ("URI", c_char_p),
        ("instantiate", c_void_p),
        ("connect_port", ConnectPortFunc),
        ("activate", HandleFunc),
        ("run", RunFunc),
        ("deactivate", HandleFunc),
        ("cleanup", HandleFunc),
        ("extension_data", ExtensionDataFunc),
    ]


class LilvInstance(Structure):
    """``struct LilvInstanceImpl``, public in ``lilv.h`` so its run call can be inlined."""

    _fields_ = [("lv2_descriptor", POINTER(LV2Descriptor)), ("lv2_handle", c_void_p), ("pimpl", c_void_p)]


_p = c_void_p
_s = c_char_p
_u = c_uint32
# name: (restype, argtypes). Pointers to lilv objects stay opaque c_void_p; a char* the
# caller must free is c_void_p too, so its address survives to lilv_free.
_PROTOTYPES: dict[str, tuple[object, tuple[object, ...]]] = {
    "lilv_free": (None, (_p,)),
    "lilv_world_new": (_p, ()),
    "lilv_world_free": (None, (_p,)),
    "lilv_world_load_all": (None, (_p,)),
    "lilv_world_load_bundle": (None, (_p, _p)),
    "lilv_world_get_all_plugins": (_p, (_p,)),
    "lilv_world_get": (_p, (_p, _p, _p, _p)),
    "lilv_new_uri": (_p, (_p, _s)),
    "lilv_new_file_uri": (_p, (_p, _s, _s)),
    "lilv_node_free": (None, (_p,)),
    "lilv_node_equals": (c_bool, (_p, _p)),
    "lilv_node_duplicate": (_p, (_p,)),
    "lilv_node_as_string": (_s, (_p,)),
    "lilv_node_as_uri": (_s, (_p,)),
    "lilv_node_as_float": (c_float, (_p,)),
    "lilv_node_as_int": (c_int, (_p,)),
    "lilv_node_is_float": (c_bool, (_p,)),
    "lilv_node_is_int": (c_bool, (_p,)),
    "lilv_node_is_bool": (c_bool, (_p,)),
    "lilv_node_as_bool": (c_bool, (_p,)),
    "lilv_node_is_uri": (c_bool, (_p,)),
    "lilv_file_uri_parse": (_p, (_s, _p)),
    "lilv_nodes_free": (None, (_p,)),
    "lilv_nodes_get_first": (_p, (_p,)),
    "lilv_nodes_begin": (_p, (_p,)),
    "lilv_nodes_next": (_p, (_p, _p)),
    "lilv_nodes_is_end": (c_bool, (_p, _p)),
    "lilv_nodes_get": (_p, (_p, _p)),
    "lilv_plugins_begin": (_p, (_p,)),
    "lilv_plugins_next": (_p, (_p, _p)),
    "lilv_plugins_is_end": (c_bool, (_p, _p)),
    "lilv_plugins_get": (_p, (_p, _p)),
    "lilv_plugins_get_by_uri": (_p, (_p, _p)),
    "lilv_plugin_get_uri": (_p, (_p,)),
    "lilv_plugin_get_bundle_uri": (_p, (_p,)),
    "lilv_plugin_get_name": (_p, (_p,)),
    "lilv_plugin_get_author_name": (_p, (_p,)),
    "lilv_plugin_get_project": (_p, (_p,)),
    "lilv_plugin_get_value": (_p, (_p, _p)),
    "lilv_plugin_get_required_features": (_p, (_p,)),
    "lilv_plugin_has_feature": (c_bool, (_p, _p)),
    "lilv_plugin_get_num_ports": (_u, (_p,)),
    "lilv_plugin_get_port_by_index": (_p, (_p, _u)),
    "lilv_plugin_instantiate": (POINTER(LilvInstance), (_p, c_double, _p)),
    "lilv_instance_free": (None, (POINTER(LilvInstance),)),
    "lilv_port_get": (_p, (_p, _p, _p)),
    "lilv_port_is_a": (c_bool, (_p, _p, _p)),
    "lilv_port_has_property": (c_bool, (_p, _p, _p)),
    "lilv_port_supports_event": (c_bool, (_p, _p, _p)),
    "lilv_port_get_symbol": (_p, (_p, _p)),
    "lilv_port_get_name": (_p, (_p, _p)),
    "lilv_port_get_range": (None, (_p, _p, _p, _p, _p)),
    "lilv_port_get_scale_points": (_p, (_p, _p)),
    "lilv_scale_points_free": (None, (_p,)),
    "lilv_scale_points_begin": (_p, (_p,)),
    "lilv_scale_points_next": (_p, (_p, _p)),
    "lilv_scale_points_is_end": (c_bool, (_p, _p)),
    "lilv_scale_points_get": (_p, (_p, _p)),
    "lilv_scale_point_get_label": (_p, (_p,)),
    "lilv_scale_point_get_value": (_p, (_p,)),
    "lilv_state_new_from_instance": (
        _p,
        (_p, POINTER(LilvInstance), POINTER(URIDMap), _s, _s, _s, _s, GetPortValueFunc, _p, _u, _p),
    ),
    "lilv_state_new_from_string": (_p, (_p, POINTER(URIDMap), _s)),
    "lilv_state_new_from_world": (_p, (_p, POINTER(URIDMap), _p)),
    "lilv_state_to_string": (_p, (_p, POINTER(URIDMap), POINTER(URIDUnmap), _p, _s, _s)),
    "lilv_state_get_plugin_uri": (_p, (_p,)),
    "lilv_state_restore": (None, (_p, POINTER(LilvInstance), SetPortValueFunc, _p, _u, _p)),
    "lilv_state_free": (None, (_p,)),
}


def load() -> ctypes.CDLL:
    """Return liblilv with every prototype declared; raise `OSError` if it is not installed."""
    errors = []
    for name in NAMES:
        path = name if name.startswith("lib") else ctypes.util.find_library(name)
        if not path:
            continue
        try:
            lib = ctypes.CDLL(path)
        except OSError as e:
            errors.append(str(e))
            continue
        for fname, (restype, argtypes) in _PROTOTYPES.items():
            fn = getattr(lib, fname)
            fn.restype = restype
            fn.argtypes = argtypes
        return lib
    raise OSError(f"liblilv is not installed ({'; '.join(errors) or 'not found'})")

"""The CLAP 1.x C ABI as ctypes structures: entry, factory, plugin, host, process, events
and the extensions mixtree uses (audio-ports, note-ports, params, latency, state, log).

Laid out after the CLAP headers DPF ships (``/usr/share/dpf/distrho/src/clap``); names
keep the C spelling so the headers read as this module's documentation.
"""

from __future__ import annotations

import ctypes
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_bool,
    c_char,
    c_char_p,
    c_double,
    c_int16,
    c_int32,
    c_int64,
    c_uint8,
    c_uint16,
    c_uint32,
    c_uint64,
    c_void_p,
)

CLAP_NAME_SIZE = 256
CLAP_PATH_SIZE = 1024
CLAP_INVALID_ID = 0xFFFFFFFF
CLAP_PLUGIN_FACTORY_ID = b"clap.plugin-factory"
CLAP_EXT_AUDIO_PORTS = b"clap.audio-ports"
CLAP_EXT_NOTE_PORTS = b"clap.note-ports"
CLAP_EXT_PARAMS = b"clap.params"
CLAP_EXT_LATENCY = b"clap.latency"
CLAP_EXT_STATE = b"clap.state"
CLAP_EXT_LOG = b"clap.log"

CLAP_AUDIO_PORT_IS_MAIN = 1 << 0
CLAP_NOTE_DIALECT_CLAP = 1 << 0
CLAP_NOTE_DIALECT_MIDI = 1 << 1

CLAP_PARAM_IS_STEPPED = 1 << 0
CLAP_PARAM_IS_HIDDEN = 1 << 2
CLAP_PARAM_IS_READONLY = 1 << 3
CLAP_PARAM_IS_BYPASS = 1 << 4

CLAP_EVENT_IS_LIVE = 1 << 0
CLAP_EVENT_NOTE_ON = 0
CLAP_EVENT_NOTE_OFF = 1
CLAP_EVENT_PARAM_VALUE = 5
CLAP_EVENT_MIDI = 10

CLAP_PROCESS_ERROR = 0


class clap_version(Structure):
    """``clap_version_t``: the CLAP version a struct was built against."""

    _fields_ = [("major", c_uint32), ("minor", c_uint32), ("revision", c_uint32)]


#: The version mixtree's host structures follow.
CLAP_VERSION = (1, 1, 1)


class clap_plugin_descriptor(Structure):
    """``clap_plugin_descriptor_t``: who a plugin is."""

    _fields_ = [
        ("clap_version", clap_version),
        ("id", c_char_p),
        ("name", c_char_p),
        ("vendor", c_char_p),
        ("url", c_char_p),
        ("manual_url", c_char_p),
        ("support_url", c_char_p),
        ("version", c_char_p),
        ("description", c_char_p),
        ("features", POINTER(c_char_p)),
    ]


class clap_host(Structure):
    """``clap_host_t``: what the host tells a plugin about itself."""


class clap_plugin(Structure):
    """``clap_plugin_t``: one plugin instance's function table."""


class clap_event_header(Structure):
    """``clap_event_header_t``: the head every event starts with."""

    _fields_ = [
        ("size", c_uint32),
        ("time", c_uint32),
        ("space_id", c_uint16),
        ("type", c_uint16),
        ("flags", c_uint32),
    ]


class clap_event_note(Structure):
    """``clap_event_note_t``: a note on or off in CLAP's own dialect."""

    _fields_ = [
        ("header", clap_event_header),
        ("note_id", c_int32),
        ("port_index", c_int16),
        ("channel", c_int16),
        ("key", c_int16),
        ("velocity", c_double),
    ]


class clap_event_param_value(Structure):
    """``clap_event_param_value_t``: a parameter's new plain value."""

    _fields_ = [
        ("header", clap_event_header),
        ("param_id", c_uint32),
        ("cookie", c_void_p),
        ("note_id", c_int32),
        ("port_index", c_int16),
        ("channel", c_int16),
        ("key", c_int16),
        ("value", c_double),
    ]


class clap_event_midi(Structure):
    """``clap_event_midi_t``: a raw three-byte MIDI message."""

    _fields_ = [("header", clap_event_header), ("port_index", c_uint16), ("data", c_uint8 * 3)]


class clap_input_events(Structure):
    """``clap_input_events_t``: the events a plugin reads during one process call."""


class clap_output_events(Structure):
    """``clap_output_events_t``: where a plugin pushes the events it emits."""


input_events_size = CFUNCTYPE(c_uint32, POINTER(clap_input_events))
input_events_get = CFUNCTYPE(c_void_p, POINTER(clap_input_events), c_uint32)
output_events_try_push = CFUNCTYPE(c_bool, POINTER(clap_output_events), c_void_p)
clap_input_events._fields_ = [("ctx", c_void_p), ("size", input_events_size), ("get", input_events_get)]
clap_output_events._fields_ = [("ctx", c_void_p), ("try_push", output_events_try_push)]


class clap_audio_buffer(Structure):
    """``clap_audio_buffer_t``: one audio port's channels for one process call."""

    _fields_ = [
        ("data32", POINTER(POINTER(ctypes.c_float))),
        ("data64", POINTER(POINTER(c_double))),
        ("channel_count", c_uint32),
        ("latency", c_uint32),
        ("constant_mask", c_uint64),
    ]


class clap_process(Structure):
    """``clap_process_t``: everything one process call reads and writes."""

    _fields_ = [
        ("steady_time", c_int64),
        ("frames_count", c_uint32),
        ("transport", c_void_p),
        ("audio_inputs", POINTER(clap_audio_buffer)),
        ("audio_outputs", POINTER(clap_audio_buffer)),
        ("audio_inputs_count", c_uint32),
        ("audio_outputs_count", c_uint32),
        ("in_events", POINTER(clap_input_events)),
        ("out_events", POINTER(clap_output_events)),
    ]


_plugin_p = POINTER(clap_plugin)
plugin_init = CFUNCTYPE(c_bool, _plugin_p)
plugin_destroy = CFUNCTYPE(None, _plugin_p)
plugin_activate = CFUNCTYPE(c_bool, _plugin_p, c_double, c_uint32, c_uint32)
plugin_deactivate = CFUNCTYPE(None, _plugin_p)
plugin_start_processing = CFUNCTYPE(c_bool, _plugin_p)
plugin_stop_processing = CFUNCTYPE(None, _plugin_p)
plugin_reset = CFUNCTYPE(None, _plugin_p)
plugin_process = CFUNCTYPE(c_int32, _plugin_p, c_void_p)
plugin_get_extension = CFUNCTYPE(c_void_p, _plugin_p, c_char_p)
plugin_on_main_thread = CFUNCTYPE(None, _plugin_p)
clap_plugin._fields_ = [
    ("desc", POINTER(clap_plugin_descriptor)),
    ("plugin_data", c_void_p),
    ("init", plugin_init),
    ("destroy", plugin_destroy),
    ("activate", plugin_activate),
    ("deactivate", plugin_deactivate),
    ("start_processing", plugin_start_processing),
    ("stop_processing", plugin_stop_processing),
    ("reset", plugin_reset),
    ("process", plugin_process),
    ("get_extension", plugin_get_extension),
    ("on_main_thread", plugin_on_main_thread),
]

_host_p = POINTER(clap_host)
host_get_extension = CFUNCTYPE(c_void_p, _host_p, c_char_p)
host_request = CFUNCTYPE(None, _host_p)
clap_host._fields_ = [
    ("clap_version", clap_version),
    ("host_data", c_void_p),
    ("name", c_char_p),
    ("vendor", c_char_p),
    ("url", c_char_p),
    ("version", c_char_p),
    ("get_extension", host_get_extension),
    ("request_restart", host_request),
    ("request_process", host_request),
    ("request_callback", host_request),
]


class clap_plugin_factory(Structure):
    """``clap_plugin_factory_t``: lists a file's plugins and creates instances."""


clap_plugin_factory._fields_ = [
    ("get_plugin_count", CFUNCTYPE(c_uint32, POINTER(clap_plugin_factory))),
    (
        "get_plugin_descriptor",
        CFUNCTYPE(POINTER(clap_plugin_descriptor), POINTER(clap_plugin_factory), c_uint32),
    ),
    ("create_plugin", CFUNCTYPE(_plugin_p, POINTER(clap_plugin_factory), _host_p, c_char_p)),
]


class clap_plugin_entry(Structure):
    """``clap_plugin_entry_t``: the ``clap_entry`` symbol every CLAP file exports."""

    _fields_ = [
        ("clap_version", clap_version),
        ("init", CFUNCTYPE(c_bool, c_char_p)),
        ("deinit", CFUNCTYPE(None)),
        ("get_factory", CFUNCTYPE(c_void_p, c_char_p)),
    ]


class clap_audio_port_info(Structure):
    """``clap_audio_port_info_t``: one audio port's channels and role."""

    _fields_ = [
        ("id", c_uint32),
        ("name", c_char * CLAP_NAME_SIZE),
        ("flags", c_uint32),
        ("channel_count", c_uint32),
        ("port_type", c_char_p),
        ("in_place_pair", c_uint32),
    ]


class clap_plugin_audio_ports(Structure):
    """``clap_plugin_audio_ports_t``: the plugin's audio-ports extension."""

    _fields_ = [
        ("count", CFUNCTYPE(c_uint32, _plugin_p, c_bool)),
        ("get", CFUNCTYPE(c_bool, _plugin_p, c_uint32, c_bool, POINTER(clap_audio_port_info))),
    ]


class clap_note_port_info(Structure):
    """``clap_note_port_info_t``: one note port's dialects."""

    _fields_ = [
        ("id", c_uint32),
        ("supported_dialects", c_uint32),
        ("preferred_dialect", c_uint32),
        ("name", c_char * CLAP_NAME_SIZE),
    ]


class clap_plugin_note_ports(Structure):
    """``clap_plugin_note_ports_t``: the plugin's note-ports extension."""

    _fields_ = [
        ("count", CFUNCTYPE(c_uint32, _plugin_p, c_bool)),
        ("get", CFUNCTYPE(c_bool, _plugin_p, c_uint32, c_bool, POINTER(clap_note_port_info))),
    ]


class clap_param_info(Structure):
    """``clap_param_info_t``: one parameter's id, flags, name and range."""

    _fields_ = [
        ("id", c_uint32),
        ("flags", c_uint32),
        ("cookie", c_void_p),
        ("name", c_char * CLAP_NAME_SIZE),
        ("module", c_char * CLAP_PATH_SIZE),
        ("min_value", c_double),
        ("max_value", c_double),
        ("default_value", c_double),
    ]


class clap_plugin_params(Structure):
    """``clap_plugin_params_t``: the plugin's params extension."""

    _fields_ = [
        ("count", CFUNCTYPE(c_uint32, _plugin_p)),
        ("get_info", CFUNCTYPE(c_bool, _plugin_p, c_uint32, POINTER(clap_param_info))),
        ("get_value", CFUNCTYPE(c_bool, _plugin_p, c_uint32, POINTER(c_double))),
        ("value_to_text", CFUNCTYPE(c_bool, _plugin_p, c_uint32, c_double, ctypes.c_char_p, c_uint32)),
        ("text_to_value", CFUNCTYPE(c_bool, _plugin_p, c_uint32, c_char_p, POINTER(c_double))),
        ("flush", CFUNCTYPE(None, _plugin_p, POINTER(clap_input_events), POINTER(clap_output_events))),
    ]


class clap_plugin_latency(Structure):
    """``clap_plugin_latency_t``: the plugin's latency extension."""

    _fields_ = [("get", CFUNCTYPE(c_uint32, _plugin_p))]


class clap_istream(Structure):
    """``clap_istream_t``: a stream the plugin reads its state from."""


class clap_ostream(Structure):
    """``clap_ostream_t``: a stream the plugin writes its state to."""


istream_read = CFUNCTYPE(c_int64, POINTER(clap_istream), c_void_p, c_uint64)
ostream_write = CFUNCTYPE(c_int64, POINTER(clap_ostream), c_void_p, c_uint64)
clap_istream._fields_ = [("ctx", c_void_p), ("read", istream_read)]
clap_ostream._fields_ = [("ctx", c_void_p), ("write", ostream_write)]


class clap_plugin_state(Structure):
    """``clap_plugin_state_t``: the plugin's state extension."""

    _fields_ = [
        ("save", CFUNCTYPE(c_bool, _plugin_p, POINTER(clap_ostream))),
        ("load", CFUNCTYPE(c_bool, _plugin_p, POINTER(clap_istream))),
    ]


host_params_rescan = CFUNCTYPE(None, _host_p, c_uint32)
host_params_clear = CFUNCTYPE(None, _host_p, c_uint32, c_uint32)
host_log = CFUNCTYPE(None, _host_p, c_int32, c_char_p)


class clap_host_params(Structure):
    """``clap_host_params_t``: what a plugin may ask the host about its parameters."""

    _fields_ = [("rescan", host_params_rescan), ("clear", host_params_clear), ("request_flush", host_request)]


class clap_host_latency(Structure):
    """``clap_host_latency_t``: how a plugin tells the host its latency changed."""

    _fields_ = [("changed", host_request)]


class clap_host_state(Structure):
    """``clap_host_state_t``: how a plugin tells the host its state changed."""

    _fields_ = [("mark_dirty", host_request)]


class clap_host_log(Structure):
    """``clap_host_log_t``: where a plugin logs to."""

    _fields_ = [("log", host_log)]

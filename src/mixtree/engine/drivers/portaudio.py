"""The sounddevice driver: PortAudio output through the system's audio API (ALSA, JACK, …).

A stream can die under the engine: a device unplugged, the JACK server killed. The engine
notices (`engine.watchdog`), `detach`es the driver (its callback renders no more) and
stops it, which never blocks: a stream of a JACK server that went away is left open
(PortAudio's JACK host API would wait 10 minutes for a callback that cannot come, and its
``Pa_Terminate`` fails an assertion: PortAudio issue #820), and PortAudio is loaded afresh
around it (`rescan`). PortAudio lists devices once, when it starts, so a failed open lists
them again (`rescan`) and tries once more: a restarted JACK server is found by name.
"""

from __future__ import annotations

import atexit
import ctypes
import ctypes.util
import threading
from collections.abc import Callable
from typing import Any

import numpy as np

from mixtree.errors import MixtreeError

#: How long stopping a stream that stopped calling back may take before it is given up, seconds.
STOP_TIMEOUT = 1.0

_open: set[PortAudioDriver] = set()  # drivers whose stream is open in this PortAudio
_abandoned: list[Any] = []  # streams of a dead JACK server, left open in this PortAudio
_buried: list[Any] = []  # the same, once their PortAudio was unloaded: kept, never touched
_stuck: list[threading.Thread] = []  # stops that did not return: PortAudio must stay as it is
_hooked = False  # `_skip_terminate` is registered


class DeviceError(MixtreeError, OSError):
    """The audio device cannot be opened or PortAudio is missing."""


def load_sounddevice() -> Any:
    """Import sounddevice, turning a missing PortAudio into a `DeviceError` that says what to install."""
    global _hooked
    try:
        import sounddevice
    except OSError as exc:  # sounddevice raises OSError when libportaudio is absent
        raise DeviceError(f"the sounddevice driver needs PortAudio: {exc} (install libportaudio2)") from exc
    if not _hooked:  # after sounddevice's own exit handler, so that it runs before it
        atexit.register(_skip_terminate, sounddevice)
        _hooked = True
    return sounddevice


def device_label(sd: Any, index: int) -> str:
    """Return ``'name, host API'``: the string sounddevice matches exactly to find a device again."""
    info = sd.query_devices(index)
    return f"{info['name']}, {sd.query_hostapis(info['hostapi'])['name']}"


class PortAudioDriver:
    """Plays through a PortAudio output stream; its callback fills ``outdata`` in place.

    ``device`` is an index, a name (any substrings of ``'name, host API'``, as sounddevice
    matches them) or None for the default output.
    """

    name = "sounddevice"

    def __init__(
        self,
        render: Callable[[np.ndarray], None],
        xrun: Callable[[], None],
        sample_rate: int,
        blocksize: int,
        device: int | str | None = None,
    ) -> None:
        sd = load_sounddevice()
        self._sd = sd
        self._render = render
        self._xrun = xrun
        self._detached = False
        self._started = False

        def open_stream() -> Any:
            return sd.OutputStream(
                samplerate=sample_rate,
                blocksize=blocksize,
                device=device,
                channels=2,
                dtype="float32",
                latency="low",
                callback=self._callback,
            )

        self._stream = _open_stream(sd, open_stream, device)
        self.latency = float(self._stream.latency)
        self.device = self._stream.device
        self.label = device_label(sd, self.device)
        self._jack = "JACK" in self.label.rsplit(", ", 1)[-1]
        _open.add(self)

    def _callback(self, outdata: np.ndarray, frames: int, time: Any, status: Any) -> None:
        # Audio thread: flags are cheap attribute reads; the player never raises.
        if self._detached:  # the engine gave this stream up: it must not touch the player
            outdata.fill(0.0)
            raise self._sd.CallbackAbort
        if status.output_underflow:
            self._xrun()
        self._render(outdata)

    @property
    def alive(self) -> bool:
        """Return True while the stream is active."""
        return bool(self._stream.active)

    def start(self) -> None:
        """Start the stream; a `DeviceError` naming the device if PortAudio cannot."""
        try:
            self._stream.start()
        except self._sd.PortAudioError as exc:
            self.stop()
            raise DeviceError(f"cannot start audio device {self.label!r}: {exc}") from exc
        self._started = True

    def detach(self) -> None:
        """Stop handing blocks to the engine at once, without waiting for the device."""
        self._detached = True

    def stop(self) -> None:
        """Stop and close the stream; safe to call twice, never blocks for long.

        A detached stream whose JACK server went away is left open and its PortAudio
        unloaded once no other stream is open; one that does not stop within
        `STOP_TIMEOUT` is left to its thread.
        """
        stream = self._stream
        if self not in _open:
            return
        _open.discard(self)
        if self._detached and self._started and self._jack and not stream.active:
            _abandoned.append(stream)
        elif self._detached:
            closer = threading.Thread(target=_close, args=(stream,), name="mixtree-stream-stop", daemon=True)
            closer.start()
            closer.join(STOP_TIMEOUT)
            if closer.is_alive():
                _stuck.append(closer)
        else:
            _close(stream)
        if _abandoned and not _open and not _stuck:
            _reload(self._sd)


def _close(stream: Any) -> None:
    # stop and close, reporting nothing: the stream is being given up or closed for good
    try:
        stream.stop()
        stream.close()
    except Exception:  # a device that went away refuses both; there is nothing left to free
        pass


def _open_stream(sd: Any, open_stream: Callable[[], Any], device: int | str | None) -> Any:
    """Open a stream; after a failure list the devices again (`rescan`) and try once more."""
    try:
        return open_stream()
    except (sd.PortAudioError, ValueError) as exc:
        first = exc
    if rescan():
        try:
            return open_stream()
        except (sd.PortAudioError, ValueError) as exc:
            first = exc
    shown = device_label(sd, device) if isinstance(device, int) and _listed(sd, device) else device
    which = "the default output device" if device is None else f"audio device {shown!r}"
    raise DeviceError(f"cannot open {which}: {first}") from first


def _listed(sd: Any, index: int) -> bool:
    try:
        sd.query_devices(index)
    except (sd.PortAudioError, ValueError):
        return False
    return True


def rescan() -> bool:
    """Make PortAudio list the devices again (a device plugged in, a JACK server restarted).

    Returns False, doing nothing, while a stream is open: PortAudio closes every stream
    when it starts again. A PortAudio whose JACK server went away is unloaded and loaded
    afresh instead of terminated (its ``Pa_Terminate`` would abort the process); device
    indices may change, names stay.
    """
    sd = load_sounddevice()
    if _open or _stuck:
        return False
    if _abandoned or not _jack_client_alive(sd):
        _reload(sd)
    else:
        sd._terminate()
        sd._initialize()
    return True


def _reload(sd: Any) -> None:
    # Give up this PortAudio without terminating it and load a fresh one: sounddevice's
    # own answer to a device list that does not update (python-sounddevice issue #516).
    # Nothing runs in the old copy any more: its JACK client died with its server.
    _buried.extend(_abandoned)
    _abandoned.clear()
    _unhook_jack_errors()
    sd._ffi.dlclose(sd._lib)
    sd._initialized = 0
    sd._lib = sd._ffi.dlopen(sd._libname)
    sd._initialize()


_JACK_ERROR = ctypes.CFUNCTYPE(None, ctypes.c_char_p)
_ignore_jack_error = _JACK_ERROR(lambda message: None)


def _unhook_jack_errors() -> None:
    # PortAudio gives libjack its error function, process-wide: one that points into an
    # unloaded copy would be called (and crash) the next time a JACK client fails to open
    path = ctypes.util.find_library("jack")
    if path is not None:
        ctypes.CDLL(path).jack_set_error_function(_ignore_jack_error)


def _jack_client_alive(sd: Any) -> bool:
    """Return True unless this PortAudio has a JACK client whose server is gone
    (no server runs, or the one running does not know the client's name)."""
    name = _portaudio_jack_name(sd)
    path = ctypes.util.find_library("jack")
    if name is None or path is None:
        return True  # no JACK host API: PortAudio terminates as usual
    jack = ctypes.CDLL(path)
    jack.jack_client_open.restype = ctypes.c_void_p
    jack.jack_client_open.argtypes = [ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int)]
    jack.jack_get_uuid_for_client_name.restype = ctypes.c_void_p
    jack.jack_get_uuid_for_client_name.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    jack.jack_free.argtypes = [ctypes.c_void_p]
    jack.jack_client_close.argtypes = [ctypes.c_void_p]
    status = ctypes.c_int(0)
    probe = jack.jack_client_open(b"mixtree-probe", 0x01, ctypes.byref(status))  # JackNoStartServer
    if not probe:
        return False
    try:
        uuid = jack.jack_get_uuid_for_client_name(probe, name.encode())
        if uuid:
            jack.jack_free(uuid)
        return bool(uuid)
    finally:
        jack.jack_client_close(probe)


def _portaudio_jack_name(sd: Any) -> str | None:
    # the name PortAudio's JACK client got, or None without a JACK host API
    if not any(api["name"].startswith("JACK") for api in sd.query_hostapis()):
        return None  # (asking would print PortAudio's complaint on stderr)
    import cffi  # sounddevice's own dependency

    ffi = cffi.FFI()
    ffi.cdef("int PaJack_GetClientName(const char **clientName);")
    lib = ffi.dlopen(sd._libname)
    try:
        name = ffi.new("const char **")
        if lib.PaJack_GetClientName(name) != 0 or name[0] == ffi.NULL:
            return None
        return ffi.string(name[0]).decode(errors="replace")
    except AttributeError:  # a PortAudio built without JACK
        return None
    finally:
        ffi.dlclose(lib)


def _skip_terminate(sd: Any) -> None:
    # sounddevice terminates PortAudio at exit, which would wait on a stream given up
    # above, or abort for a JACK client whose server went away: the process ends without
    try:
        if _abandoned or _stuck or (sd._initialized and not _jack_client_alive(sd)):
            sd._initialized = 0
    except Exception:  # at exit, nothing may stop the rest of the handlers
        pass

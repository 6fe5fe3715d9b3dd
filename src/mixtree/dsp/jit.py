"""Kernels compiled lazily: numba is imported when the first kernel runs, not on import.

`njit` stands in for ``numba.njit``: before numba is loaded it returns a `Kernel`, which
holds the Python function and its options. The first call of any kernel (or `realize`)
imports numba, makes every kernel's dispatcher and puts them in place of the `Kernel`
objects in the globals of every loaded module, so that kernels calling kernels
compile as before and Python callers call the dispatcher directly from then on. Numba's
on-disk cache is keyed by the function's file and name, so it is the same cache as an
eager ``numba.njit`` would use.
"""

from __future__ import annotations

import sys
import threading
import types
from collections.abc import Callable
from typing import Any

_lock = threading.RLock()
_kernels: list[Kernel] = []
_numba: Any = None
_loaders: list[Callable[[Any], None]] = []


class Kernel:
    """A function to compile with numba on first use (see `njit`); calls go to its dispatcher."""

    def __init__(self, py_func: Callable[..., Any], args: tuple[Any, ...], options: dict[str, Any]) -> None:
        self.py_func = py_func
        self.args = args
        self.options = options
        self.dispatcher: Any = None
        self.__doc__ = py_func.__doc__
        self.__name__ = py_func.__name__
        self.__qualname__ = py_func.__qualname__
        self.__module__ = py_func.__module__

    def compiled(self) -> Any:
        """Return the numba dispatcher (importing numba and making every dispatcher first)."""
        if self.dispatcher is None:
            realize()
        return self.dispatcher

    def __call__(self, *args: Any) -> Any:
        """Run the compiled kernel."""
        return (self.dispatcher or self.compiled())(*args)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # introspection (staticmethod, inspect) must not load numba
            raise AttributeError(name)
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        state = "compiled" if self.dispatcher is not None else "not loaded"
        return f"<Kernel {self.__module__}.{self.__qualname__} ({state})>"


def njit(*args: Any, **options: Any) -> Any:
    """``numba.njit``, deferred: use as ``@njit(cache=True)`` or ``@njit("sig", ...)``."""
    if _numba is not None:
        return _numba.njit(*args, **options)
    if len(args) == 1 and callable(args[0]) and not options:
        return _defer(args[0], (), {})
    return lambda f: _defer(f, args, options)


def _defer(f: Callable[..., Any], args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    with _lock:
        if _numba is not None:
            return _numba.njit(*args, **options)(f)
        kernel = Kernel(f, args, options)
        _kernels.append(kernel)
        return kernel


def compiled(kernel: Any) -> Any:
    """Return what to call for ``kernel``: its dispatcher if it is a `Kernel`, else itself,
    the kernels loaded first (a user's ``numba.njit`` kernel may call mixtree's)."""
    if _numba is None:
        realize()
    return kernel.compiled() if isinstance(kernel, Kernel) else kernel


_nogil: dict[Any, Any] = {}


def nogil(kernel: Any) -> Any:
    """Return a variant of ``kernel`` that releases the GIL while it runs, for the offline
    renderer's worker threads (the engine's kernels keep it: see `mixtree.dsp`). It is a
    copy of the function under a name of its own, so numba's disk cache keeps the two
    apart (its key does not tell them by the ``nogil`` flag)."""
    dispatcher = compiled(kernel)
    with _lock:
        variant = _nogil.get(dispatcher)
        if variant is None:
            f = dispatcher.py_func
            copy = types.FunctionType(f.__code__, f.__globals__, f.__name__ + "_nogil", f.__defaults__, f.__closure__)
            copy.__qualname__ = f.__qualname__ + "_nogil"
            copy.__module__ = f.__module__
            variant = _nogil[dispatcher] = _numba.njit(cache=True, nogil=True)(copy)
        return variant


def on_load(loader: Callable[[Any], None]) -> None:
    """Have ``loader(numba)`` run once numba is imported, before any kernel is made (at
    once if it is already): for globals that kernels read and only numba can make."""
    with _lock:
        if _numba is not None:
            loader(_numba)
        else:
            _loaders.append(loader)


def loaded() -> bool:
    """Return whether numba has been imported and the kernels' dispatchers made."""
    return _numba is not None


def realize() -> None:
    """Import numba, make every deferred kernel's dispatcher and swap it into the globals of
    every loaded module (which kernels read when they compile). Idempotent, thread safe."""
    global _numba
    with _lock:
        if _numba is not None:
            return
        import numba

        _load_registries()
        for loader in _loaders:
            loader(numba)
        # kernels given a signature compile at once: those they call must be in place first
        for eager in (False, True):
            for kernel in _kernels:
                if bool(kernel.args) == eager:
                    kernel.dispatcher = numba.njit(*kernel.args, **kernel.options)(kernel.py_func)
            _swap()
        _numba = numba
        _kernels.clear()


def _load_registries() -> None:
    # Numba's array functions, loaded with the first kernel, import scipy.linalg (about
    # 0.4 s, half the load) only to choose BLAS for np.correlate and np.convolve inside
    # compiled code, which no kernel here uses (they then take numba's own loop); np.dot
    # and np.linalg check for BLAS when compiled, and scipy imports normally afterwards.
    blas = "scipy.linalg.cython_blas"
    blocked = blas not in sys.modules
    if blocked:
        sys.modules[blas] = None  # type: ignore[assignment] - makes the import fail fast
    try:
        import numba.np.arraymath  # noqa: F401
    finally:
        if blocked and sys.modules.get(blas, 0) is None:
            del sys.modules[blas]


def _swap() -> None:
    # every module: a user's kernel module may have imported mixtree's helpers (value_at)
    for module in list(sys.modules.values()):
        if not isinstance(module, types.ModuleType):
            continue  # (some libraries put other objects in sys.modules)
        space = vars(module)
        for key, value in list(space.items()):
            if isinstance(value, Kernel) and value.dispatcher is not None:
                space[key] = value.dispatcher

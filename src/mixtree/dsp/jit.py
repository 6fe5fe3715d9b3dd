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
        """Run the compiled kernel (a ``control`` helper, until numba loads: in Python)."""
        if self.dispatcher is None and self.options.get("control") and _numba is None:
            return self.py_func(*args)
        return (self.dispatcher or self.compiled())(*args)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):  # introspection (staticmethod, inspect) must not load numba
            raise AttributeError(name)
        return getattr(self.compiled(), name)

    def __repr__(self) -> str:
        state = "compiled" if self.dispatcher is not None else "not loaded"
        return f"<Kernel {self.__module__}.{self.__qualname__} ({state})>"


def njit(*args: Any, **options: Any) -> Any:
    """``numba.njit``, deferred: use as ``@njit(cache=True)`` or ``@njit("sig", ...)``.

    One option of ours: ``slp=True`` compiles the kernel with LLVM's straight-line (SLP)
    vectoriser, which packs independent scalar recursions (a biquad's channels, two
    tracks at a time) into vector registers. Numba leaves it off for every kernel since
    LLVM miscompiled some integer code with it (numba PR 8852): so it is ours to turn on
    for float kernels that a test checks bit for bit against their build without it.

    And ``control=True``: a scalar helper the model calls too (a lane's value, a
    metatrack's time): until numba loads, a call runs its Python function (the same IEEE
    arithmetic and libm), so describing or editing a project loads no numba.
    """
    if _numba is not None:
        if len(args) == 1 and callable(args[0]) and not options:
            return _dispatcher(_numba, args[0], (), {})
        return lambda f: _dispatcher(_numba, f, args, options)
    if len(args) == 1 and callable(args[0]) and not options:
        return _defer(args[0], (), {})
    return lambda f: _defer(f, args, options)


def _defer(f: Callable[..., Any], args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    with _lock:
        if _numba is not None:
            return _dispatcher(_numba, f, args, options)
        kernel = Kernel(f, args, options)
        _kernels.append(kernel)
        return kernel


def _dispatcher(numba: Any, f: Callable[..., Any], args: tuple[Any, ...], options: dict[str, Any]) -> Any:
    # numba's dispatcher for ``f``; with our ``slp`` option, one whose every compilation
    # (or load from numba's cache, keyed on the file, which holds what that compiled)
    # runs with the SLP vectoriser on: numba reads the setting as it optimises a module
    options = dict(options)
    options.pop("control", None)
    slp = options.pop("slp", False)
    if slp and args:
        raise ValueError(f"{f.__qualname__}: slp=True is for kernels compiled on first use (no signature)")
    dispatcher = numba.njit(*args, **options)(f)
    if slp:
        from numba.core import config
        from numba.core.compiler_lock import global_compiler_lock

        compile_plain = dispatcher.compile

        def compile_vectorised(sig: Any) -> Any:
            with global_compiler_lock:  # (reentrant: numba takes it again inside)
                before, config.SLP_VECTORIZE = config.SLP_VECTORIZE, 1
                try:
                    return compile_plain(sig)
                finally:
                    config.SLP_VECTORIZE = before

        dispatcher.compile = compile_vectorised
        dispatcher.slp = True
    return dispatcher


def compiled(kernel: Any) -> Any:
    """Return what to call for ``kernel``: its dispatcher if it is a `Kernel`, else itself,
    the kernels loaded first (a user's ``numba.njit`` kernel may call mixtree's)."""
    if _numba is None:
        realize()
    return kernel.compiled() if isinstance(kernel, Kernel) else kernel


def entry(kernel: Any, *args: Any) -> Any:
    """Return what runs ``kernel`` on arguments of the types of ``args`` past numba's
    dispatch, which types every argument at every call (microseconds for a tuple of
    arrays): the compiled entry point, compiled (or loaded from the cache) first if need
    be. Only for calls whose arguments keep those types, such as a plan's own arrays:
    another type would be read as this one. Anything but numba's dispatcher (a profiler's
    wrapper) comes back as it is."""
    dispatcher = compiled(kernel)
    typeof = getattr(dispatcher, "typeof_pyval", None)
    if typeof is None:
        return dispatcher
    return dispatcher.compile(tuple(typeof(a) for a in args))


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
            # the kernel's own options (its error model, SLP) and no GIL
            slp = getattr(dispatcher, "slp", False)
            own = {k: v for k, v in dispatcher.targetoptions.items() if k != "nopython"}  # (njit's own)
            options = {**own, "cache": True, "nogil": True, "slp": slp}
            variant = _nogil[dispatcher] = _dispatcher(_numba, copy, (), options)
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
                    kernel.dispatcher = _dispatcher(numba, kernel.py_func, kernel.args, kernel.options)
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

"""The effect protocol: parameters described and smoothed, state as plain data, one kernel.

An `Effect` is a control-side object with its audio-side memory attached: a parameter
table (see `mixtree.dsp.smoothing`), a state vector and, for effects with memory, a
buffer. Built-in effects name a batched kernel; the render plan runs each kernel once per
chain position for every track that has that effect there. An effect without a kernel
is run on its own through `process_block` (user effects, hosted plugins). An instrument
(``is_instrument``) plays a MIDI track: its kernel renders every track with that
instrument type in one call, events applied on their frames.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar, Protocol

import numpy as np

from mixtree.dsp import jit
from mixtree.dsp.rows import Rows
from mixtree.dsp.smoothing import CUR, LAST, TGT
from mixtree.effects.parameters import Parameter


class EffectHost(Protocol):
    """What holds an effect (a project): it turns the effect's edits into undoable ones."""

    def _edit_effect(self, effect: Effect, parameter: str, value: float) -> None:
        """Set ``parameter`` of ``effect`` to a checked ``value``."""

    def _automate_effect(self, effect: Effect, parameter: str) -> Any:
        """Return the automation lane of ``parameter`` of ``effect``, made on first use."""


#: What a kernel runs on: parameter table, state, buffer, ramps (see `Effect.memory`).
Memory = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

#: Time a bypass switch takes to cross-fade, seconds.
BYPASS_RAMP = 0.010


class Effect:
    """An audio effect: processes float32 ``(frames, channels)`` blocks in place.

    Parameters are set and read by id or name (`set_parameter`, `get_parameter`) or as
    attributes (``comp.ratio = 2``). A change is smoothed per sample over the parameter's
    ``ramp``. ``bypass`` cross-fades to the dry signal over 10 ms.
    """

    effect_type: ClassVar[str] = ""
    PARAMETERS: ClassVar[tuple[Parameter, ...]] = ()
    kernel: ClassVar[Callable[..., None] | None] = None
    #: Instruments only: set up for playback from a frame (note chase), and release one
    #: instance's voices (see `mixtree.render.midi.InstrumentGroup`).
    chase_kernel: ClassVar[Callable[..., None] | None] = None
    release_kernel: ClassVar[Callable[..., None] | None] = None
    state_size: ClassVar[int] = 0
    #: Whether project files can make this class from its `effect_type` (see `from_state`).
    loadable: ClassVar[bool] = True
    #: A third-party plugin: its latency may change with its parameters, and it needs the
    #: control side's `idle` calls.
    hosted: ClassVar[bool] = False
    _types: ClassVar[dict[str, type[Effect]]] = {}
    #: Whether the effect's own state still waits for `_init_state` (see `reset`).
    _unset = False

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "effect_type" not in cls.__dict__:
            # a user's effect is saved under its import path, so a process that imports
            # it opens the project, and one that does not names what is missing
            cls.effect_type = f"{cls.__module__}.{cls.__qualname__}"
        if cls.loadable:
            Effect._types[cls.effect_type] = cls
        for spec in cls.PARAMETERS:
            setattr(cls, spec.id, _parameter_property(spec))

    def __init__(self, **values: float | str) -> None:
        self.id: int | None = None
        self._host: EffectHost | None = None
        #: Automation lanes of the effect's parameters, by parameter id (see `automate`).
        self.lanes: dict[str, Any] = {}
        self._values = {p.id: p.default for p in self.PARAMETERS}
        self._bypass = False
        self._playing: dict[str, float] = {}  # automated values of a kernel-less effect
        for key, value in values.items():
            spec = self._spec(key)
            self._values[spec.id] = spec.check(value)
        self.sample_rate = 0
        self._params = np.zeros((len(self.PARAMETERS) + 1, 4), dtype=np.float64)
        self._ramps = np.zeros(len(self.PARAMETERS) + 1, dtype=np.int64)
        self._state = np.zeros(self.state_size, dtype=np.float64)
        self._buffer = np.zeros((0, 2), dtype=np.float32)
        # memory of the copies alias instances play, by instance key (see `memory`)
        self._instances: dict[tuple[int, ...], Memory] = {}

    # -- parameters ----------------------------------------------------------------------
    @property
    def parameters(self) -> tuple[Parameter, ...]:
        """Return the descriptions of every parameter."""
        return self.PARAMETERS

    def _spec(self, key: str) -> Parameter:
        if not isinstance(key, str):
            raise ValueError(f"parameters are named by strings, not {key!r}")
        for p in self.PARAMETERS:
            if key == p.id or key.lower() == p.name.lower():
                return p
        names = ", ".join(p.id for p in self.PARAMETERS)
        raise ValueError(f"{type(self).__name__} has no parameter {key!r} (it has {names})")

    def value(self, key: str) -> float:
        """Return the value parameter ``key`` plays now, a choice as its index: its lane's
        while one plays (what `automation_value` was last given), else its own. Effects
        without a kernel read their parameters with it in `process_block`."""
        pid = self._spec(key).id
        return self._playing.get(pid, self._values[pid])

    def automation_value(self, pid: str, value: float) -> None:
        """Take ``value`` of automated parameter ``pid`` for the frames processed next
        (effects without a kernel; called on the audio thread before each piece of a
        block, see `mixtree.render.stages.SoloStage`). Override to hand it on."""
        self._playing[pid] = value

    def automation_ended(self) -> None:
        """Let every parameter play its own value again (audio thread; a new plan's first
        block). Override to hand that on."""
        self._playing.clear()

    def get_parameter(self, key: str) -> float | str:
        """Return a parameter's value by id or name (a choice by its name)."""
        spec = self._spec(key)
        value = self._values[spec.id]
        return spec.choices[int(value)] if spec.choices else value

    def set_parameter(self, key: str, value: float | str) -> None:
        """Set a parameter by id or name; it glides there over the parameter's ramp."""
        spec = self._spec(key)
        self._edit(spec.id, spec.check(value))

    def automate(self, key: str) -> Any:
        """Return the automation lane of the parameter ``key`` (id or name), made on first
        use; the effect must be in a project's chain."""
        if self._host is None:
            raise ValueError(f"{self!r} is not in a project: add it to a track before automating it")
        return self._host._automate_effect(self, self._spec(key).id)

    @property
    def bypass(self) -> bool:
        """Return True while the effect is bypassed (its input passes unchanged)."""
        return self._bypass

    @bypass.setter
    def bypass(self, on: bool) -> None:
        if not isinstance(on, bool | int) or on not in (0, 1):
            raise ValueError(f"bypass must be True or False, not {on!r}")
        self._edit("bypass", float(bool(on)))

    def _edit(self, pid: str, value: float) -> None:
        if self._host is not None:
            self._host._edit_effect(self, pid, value)
        else:
            self.assign(pid, value)

    def assign(self, pid: str, value: float) -> None:
        """Set a checked value and hand it to the audio side (used by operations)."""
        self._state  # noqa: B018 - a state still unset is designed for the values it was reset at
        if pid == "bypass":
            self._bypass = bool(value)
        else:
            self._values[pid] = value
        self._push_targets()

    def _dsp_values(self) -> list[float]:
        """Return the values the kernel reads, in parameter order (override to derive)."""
        return [self._values[p.id] for p in self.PARAMETERS]

    def _push_targets(self) -> None:
        # One float store per row: the audio thread picks targets up at its next block.
        for params in (self._params, *(m[0] for m in self._instances.values())):
            for row, value in enumerate(self._dsp_values()):
                params[row, TGT] = value
            params[-1, TGT] = 0.0 if self._bypass else 1.0

    # -- audio-side memory ---------------------------------------------------------------
    def buffer_shape(self, sample_rate: int) -> tuple[int, int]:
        """Return the float32 buffer an effect with memory needs at ``sample_rate``."""
        return (0, 2)

    def prepare(self, sample_rate: int) -> None:
        """Allocate the audio-side memory for ``sample_rate`` and start at rest (control side)."""
        if sample_rate == self.sample_rate:
            return
        self.sample_rate = sample_rate
        self._instances = {}
        ramps = [p.ramp for p in self.PARAMETERS] + [BYPASS_RAMP]
        self._ramps = np.array([round(r * sample_rate) for r in ramps], dtype=np.int64)
        self._buffer = np.zeros(self.buffer_shape(sample_rate), dtype=np.float32)
        self.reset()

    def reset(self, instance: tuple[int, ...] | None = None) -> None:
        """Clear the effect's memory (filter state, delay lines, envelopes) and stop ramps:
        all of it, or only its own (``instance=()``) or one alias instance's."""
        self._push_targets()
        own = (self._params, self._own_state, self._buffer, self._ramps)
        if instance is None:
            memories = [own, *self._instances.values()]
        elif instance:
            memories = [self._instances[instance]] if instance in self._instances else []
        else:
            memories = [own]
        for params, state, buffer, _ in memories:
            params[:, CUR] = params[:, TGT]
            params[:, LAST] = params[:, TGT]
            state[:] = 0.0
            buffer[:] = 0.0
            if not self.sample_rate:
                continue
            if state is self._own_state and not jit.loaded() and type(self)._init_state is not Effect._init_state:
                # designing needs compiled kernels: a project that is only opened (to be
                # described, edited, saved) never loads numba; the first use fills it
                self._unset = True
            else:
                self._init_state(state)

    @property
    def _state(self) -> np.ndarray:
        if self._unset:
            self._unset = False
            self._init_state(self._own_state)
        return self._own_state

    @_state.setter
    def _state(self, state: np.ndarray) -> None:
        self._own_state = state
        self._unset = False

    def _init_state(self, state: np.ndarray) -> None:
        """Fill derived values (coefficients, line lengths) into a state at rest; override."""

    def memory(self, fresh: bool = False, instance: tuple[int, ...] = ()) -> Memory:
        """Return the arrays a kernel runs on: parameter table, state, buffer, ramps.

        By default the effect's own (live: edits and playback share them). With ``fresh``,
        private copies at rest, for a render that must neither disturb nor inherit them.
        An ``instance`` key (an alias playing the effect's track again) gets memory of its
        own that lives as long as the effect and follows its parameter edits.
        """
        if instance and not fresh:
            if instance not in self._instances:
                # copy on write: whoever loops over the instances holds a stable snapshot
                self._instances = {**self._instances, instance: self.memory(fresh=True)}
            return self._instances[instance]
        if not fresh:
            return self._params, self._state, self._buffer, self._ramps
        params = self._params.copy()
        params[:, CUR] = params[:, TGT]
        params[:, LAST] = params[:, TGT]
        state = np.zeros_like(self._state)
        if self.sample_rate:
            self._init_state(state)
        return params, state, np.zeros_like(self._buffer), self._ramps

    def keep_instances(self, keys: set[tuple[int, ...]]) -> None:
        """Drop the memory of alias instances other than ``keys`` (control side; a plan
        still playing one keeps its arrays until it retires)."""
        if self._instances.keys() - keys:
            self._instances = {k: m for k, m in self._instances.items() if k in keys}

    @property
    def latency(self) -> int:
        """Return the frames the effect delays its output by (built-ins: none; a hosted
        plugin reports its own), which plans compensate (`mixtree.render.latency`)."""
        return 0

    def idle(self) -> list[Any]:
        """Do what the effect asked of the control thread (a hosted plugin; a few times a
        second) and return what it no longer plays, to be closed once the audio thread is
        past its current block. Built-ins ask nothing."""
        return []

    @property
    def offline(self) -> str | None:
        """Return why the effect cannot run (it then passes audio through), or None."""
        return None

    # -- processing ----------------------------------------------------------------------
    def process(self, block: np.ndarray, sample_rate: int) -> np.ndarray:
        """Process float32 ``(frames, channels)`` audio in place and return it (1 or 2 channels)."""
        if block.ndim != 2 or block.shape[1] not in (1, 2):
            raise ValueError(f"block must be (frames, 1 or 2 channels), not {block.shape}")
        self.prepare(sample_rate)
        work = np.empty((1, block.shape[0], 2), dtype=np.float32)
        work[0] = block if block.shape[1] == 2 else np.repeat(block, 2, axis=1)
        if self.kernel is None:
            self.process_block(work[0], sample_rate)
        else:
            row = Rows([0], [(self._params, self._state, self._buffer, self._ramps, np.zeros((0, 0)))])  # no automation
            jit.compiled(self.kernel)(work, block.shape[0], row.table, float(sample_rate))
        block[:] = work[0] if block.shape[1] == 2 else work[0, :, :1]
        return block

    @property
    def broken(self) -> str | None:
        """Return why the effect cannot process until someone restarts it (a sandboxed
        plugin whose worker crashed), or None: a failure then silences its track only
        for as long as it lasts."""
        return None

    def instance_copy(self, key: tuple[int, ...], sample_rate: int, fresh: bool = False) -> Effect | None:
        """Return what plays this effect in alias instance ``key`` when it has no kernel
        (built-ins use `memory`): None, a user's effect is one object with one state and
        does not play there; a hosted plugin overrides this with an instance of its own."""
        return None

    def fresh_copy(self, sample_rate: int) -> Effect:
        """Return what a fresh (offline) render runs for this effect: built-in kernels get
        fresh memory (`memory`), so the effect itself; a hosted plugin overrides this with
        a new instance in the same state, so the render neither disturbs nor inherits it."""
        return self

    def process_block(self, block: np.ndarray, sample_rate: int) -> None:
        """Process a float32 ``(frames, 2)`` block in place; effects without a kernel override this."""
        raise NotImplementedError(f"{type(self).__name__} has neither a kernel nor process_block")

    # -- state as plain data -------------------------------------------------------------
    def get_state(self) -> dict[str, Any]:
        """Return the effect's settings as plain data: its type, parameters and bypass."""
        return {
            "type": self.effect_type,
            "parameters": {p.id: self.get_parameter(p.id) for p in self.PARAMETERS},
            "bypass": self._bypass,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Restore settings saved by `get_state`; raise ``ValueError`` for bad ones."""
        parameters = state.get("parameters", {})
        if not isinstance(parameters, dict):
            raise ValueError(f"parameters must be a mapping of names to values, not {parameters!r}")
        for key, value in parameters.items():
            self.set_parameter(key, value)
        if "bypass" in state:
            self.bypass = state["bypass"]

    @staticmethod
    def registered() -> list[type[Effect]]:
        """Return every effect class project files can make, built-in and user-defined."""
        return list(Effect._types.values())

    @staticmethod
    def known_type(effect_type: object) -> bool:
        """Return True if this process can make effects of ``effect_type`` (`from_state`)."""
        return isinstance(effect_type, str) and effect_type in Effect._types

    @staticmethod
    def from_state(state: dict[str, Any]) -> Effect:
        """Return a new effect of the saved type with the saved settings.

        Raises ``ValueError`` for an unknown type or settings it refuses.
        """
        kind = state.get("type")
        if not Effect.known_type(kind):
            known = ", ".join(sorted(Effect._types))
            raise ValueError(f"unknown effect type {kind!r} (known: {known})")
        return Effect._types[kind].restore(state)

    @classmethod
    def restore(cls, state: dict[str, Any]) -> Effect:
        """Return a new effect of this class with the settings of ``state`` (`from_state`);
        a class whose constructor needs more than its settings overrides this."""
        try:
            effect = cls()
        except TypeError as exc:  # a user's class whose constructor wants arguments
            what = f"{cls.effect_type!r} cannot be made from its saved state (it wants arguments)"
            raise ValueError(f"{what}: {exc}") from exc
        effect.set_state(state)
        return effect

    def __repr__(self) -> str:
        args = ", ".join(f"{p.id}={self.get_parameter(p.id)!r}" for p in self.PARAMETERS)
        return f"{type(self).__name__}({args})"


def _parameter_property(spec: Parameter) -> property:
    def get(self: Effect) -> float | str:
        return self.get_parameter(spec.id)

    def set(self: Effect, value: float | str) -> None:
        self.set_parameter(spec.id, value)

    unit = f", {spec.unit}" if spec.unit else ""
    return property(get, set, doc=f"{spec.name} ({spec.min:g}..{spec.max:g}{unit}).")

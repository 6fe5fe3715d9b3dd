"""Batch jobs: a project, the parameters to change, a time range and the files to write.

A `Job` is plain, picklable data: a process pool or a Ray cluster runs it anywhere the
project file and its media can be read. Its `key` hashes everything that decides its
output, so a re-run knows the jobs it has done already.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from mixtree.batch.addresses import AddressLike, resolve
from mixtree.io.audio_file import format_for
from mixtree.model.automation import spec_for
from mixtree.model.document import to_document
from mixtree.model.project import Project
from mixtree.model.project_file import encode

#: Extensions read as Standard MIDI Files: a job over one plays it through a `PolySynth`.
MIDI_EXTENSIONS = (".mid", ".midi", ".smf")


@dataclass(frozen=True, slots=True)
class Snapshot:
    """A project held in memory, as its document (MessagePack bytes, media paths absolute)."""

    data: bytes
    name: str = "project"

    @classmethod
    def of(cls, project: Project) -> Snapshot:
        """Return ``project`` as it is now."""
        name = project.path.stem if project.path is not None else "project"
        return cls(encode(to_document(project, Path("/")), "msgpack"), name)

    def __repr__(self) -> str:
        return f"Snapshot({self.name!r}, {len(self.data)} bytes)"


@dataclass(frozen=True, slots=True)
class Job:
    """One render: ``project`` (a file or a `Snapshot`) with ``parameters`` set, from
    ``start`` for ``duration`` seconds (default: to the end), into ``out`` (the mix) and/or
    ``stems`` (a folder, one file per top-level track).

    Parameters
    ----------
    project
        A project file (``.json``, ``.mtp``), a MIDI file (played through a `PolySynth`) or
        a `Snapshot` of a project in memory.
    parameters
        Values by address (``{"Drums.volume_db": -6}``, see `mixtree.batch.addresses`).
    out
        The mix's file; format by extension (WAV, FLAC, OGG, MP3).
    stems
        A folder for stems (`mixtree.jobs.stems.export_stems`), of type ``stem_type``.
    subtype
        ``"float"``, ``"24"`` or ``"16"`` (dithered); the format's default if None.
    normalize_lufs
        Scale the mix to this integrated loudness (ITU-R BS.1770), LUFS; stems stay as rendered.
    blocksize
        Frames per block: every size renders the same samples; large ones cost fewer calls.
    index
        The job's number in its batch (manifests are ordered by it).
    """

    project: str | Path | Snapshot
    parameters: Mapping[str, Any] = field(default_factory=dict)
    out: str | Path | None = None
    start: float = 0.0
    duration: float | None = None
    stems: str | Path | None = None
    stem_type: str = "wav"
    subtype: str | None = None
    normalize_lufs: float | None = None
    blocksize: int = 4096
    index: int = 0

    def __post_init__(self) -> None:
        if self.out is None and self.stems is None:
            raise ValueError("a job writes a mix (out=) or stems (stems=): give at least one")
        if self.out is not None:
            format_for(self.out, self.subtype)
        if self.stems is not None:
            format_for(f"stem.{self.stem_type.lstrip('.')}", self.subtype)
        if self.normalize_lufs is not None and not -70.0 <= self.normalize_lufs <= 0.0:
            raise ValueError(f"normalize_lufs must be within -70..0 LUFS, not {self.normalize_lufs!r}")

    @property
    def project_name(self) -> str:
        """Return what manifests call the project: its file's path, or the snapshot's name."""
        return self.project.name if isinstance(self.project, Snapshot) else str(self.project)

    @property
    def outputs(self) -> list[Path]:
        """Return the mix file (if any); stems are named when they are rendered."""
        return [Path(self.out)] if self.out is not None else []

    @property
    def key(self) -> str:
        """Return a hash of all that decides the job's output (the project's bytes included)."""
        if isinstance(self.project, Snapshot):
            project = hashlib.sha256(self.project.data).hexdigest()
        else:
            path = Path(self.project).expanduser().resolve()
            try:
                project = f"{path}:{hashlib.sha256(path.read_bytes()).hexdigest()}"
            except OSError:
                project = f"{path}:unreadable"
        spec = {
            "project": project,
            "parameters": {k: _plain(v) for k, v in self.parameters.items()},
            "out": None if self.out is None else str(Path(self.out).expanduser().resolve()),
            "stems": None if self.stems is None else str(Path(self.stems).expanduser().resolve()),
            "range": [self.start, self.duration],
            "format": [self.stem_type, self.subtype, self.normalize_lufs, self.blocksize],
        }
        return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]


def _plain(value: Any) -> Any:
    if hasattr(value, "item"):  # a numpy scalar, from a grid made with numpy
        value = value.item()
    return value if isinstance(value, str | int | float | bool) or value is None else repr(value)


def load_project(source: str | Path | Snapshot) -> Project:
    """Open a job's project: a file, a MIDI file or a `Snapshot` (a fresh object each call)."""
    if isinstance(source, Snapshot):
        from mixtree.model.document import from_document
        from mixtree.model.migrations import migrate
        from mixtree.model.project_file import decode

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # a snapshot's media were checked when it was taken
            return from_document(migrate(decode(source.data, "msgpack")), Path("/")).project
    path = Path(source)
    if path.suffix.lower() in MIDI_EXTENSIONS:
        from mixtree.model.midi_import import import_midi

        return import_midi(path)
    return Project.load(path)


def check_parameters(project: Project, parameters: Mapping[AddressLike, Iterable[Any]]) -> None:
    """Raise ``ValueError`` if an address names nothing in ``project`` or a value is out of range."""
    for address, values in parameters.items():
        where = resolve(project, address)
        spec, label = spec_for(project, project.registry.lane_owner(where.owner), where.name)
        for value in values:
            try:
                spec.check(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{address!r} ({label}): {exc}") from None


def grid(
    project: str | Path | Project,
    parameters: Mapping[str, Sequence[Any]] | Sequence[Mapping[str, Any]] | None = None,
    out: str | Path | None = "renders/{index:05d}.flac",
    *,
    stems: str | Path | None = None,
    first_index: int = 0,
    **options: Any,
) -> list[Job]:
    """Return a job for each combination of ``parameters`` (every value list crossed with
    every other, the last varying fastest), or for each mapping of a list of them.

    Parameters
    ----------
    project
        A project file, a MIDI file, or a `Project` (taken as it is now).
    parameters
        ``{"Drums.volume_db": [-12, -6, 0], "Verb.mix": [0.1, 0.3]}`` (6 jobs), or a list
        of ``{address: value}`` (one job each); None renders the project once.
    out, stems
        Templates of the mix file and stem folder (either may be None), formatted with
        ``index`` (the job's number) and ``project`` (the project's file stem).
    first_index
        The first job's ``index``.
    options
        The other fields of `Job`: ``start``, ``duration``, ``subtype``, ``stem_type``,
        ``normalize_lufs``, ``blocksize``.

    Every address and value is checked against the project first (``ValueError``); a
    project that cannot be opened is not: its jobs fail, each in its own manifest row.
    """
    if isinstance(project, Project):
        opened: Project | None = project
        source: str | Path | Snapshot = Snapshot.of(project)
    else:
        source = Path(project)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                opened = load_project(source)
        except (OSError, ValueError):
            opened = None
    if parameters is None:
        combos: list[dict[str, Any]] = [{}]
    elif isinstance(parameters, Mapping):
        keys = list(parameters)
        combos = [dict(zip(keys, values, strict=True)) for values in itertools.product(*parameters.values())]
    else:
        combos = [dict(c) for c in parameters]
    if opened is not None:
        wanted: dict[str, list[Any]] = {}
        for combo in combos:
            for k, v in combo.items():
                wanted.setdefault(k, []).append(v)
        check_parameters(opened, wanted)
    name = source.name if isinstance(source, Snapshot) else source.stem
    template = Job(source, {}, out, stems=stems, **options)  # checks the options once
    return [
        replace(
            template,
            parameters=combo,
            index=first_index + k,
            out=None if out is None else str(out).format(index=first_index + k, project=name),
            stems=None if stems is None else str(stems).format(index=first_index + k, project=name),
        )
        for k, combo in enumerate(combos)
    ]

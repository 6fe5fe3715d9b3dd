"""mixtree: a DAW backend — a track tree, real-time playback, faster-than-real-time render.

API map
-------
Project            a session: ``Project(sample_rate=48000)``; ``.pool``, ``.master``, ``.tracks``
Project.pool.load  decode a file once into the audio pool -> `Source`
add_audio_track    add an `AudioTrack` (volume_db, pan, mute, solo)
add_bus, add_send  a `BusTrack` fed by `Send`s (level_db, pre_fader)
create_metatrack   group tracks into a `Metatrack` (offset, speed, pitch, preserve_pitch);
                   ungroup, flatten, freeze/unfreeze, bounce; `AliasClip` replays one
AudioTrack.add_clip  place a `Clip` (start, duration, offset, gain_db, fades, reversed)
Project.render     render a range offline -> float32 ``(frames, 2)``
Project.export     render to WAV/FLAC/OGG/MP3 (float, 24- or 16-bit with TPDF dither)
Project.export_stems  a file per top-level track, in one pass; they add up to the mix
Project.save/load  JSON or MessagePack project files, atomic, with backups and autosaves;
                   `discard_autosaves` drops a crashed session's autosaves
add_midi_track     a `MidiTrack` playing `MidiClip`s (add_note, add_event) through a `PolySynth`
tempo_map          `TempoMap`: set_tempo, set_meter; seconds ↔ beats ↔ ticks ↔ bars
import_midi        a Project from a Standard MIDI File; export_midi writes MIDI clips back
import_dawproject  a Project from a DAWproject file; Project.export_dawproject writes one
import_otio        a Project from OpenTimelineIO (and its adapters' formats); Project.export_otio
import_rpp         a Project from a REAPER project (.RPP)
Engine             real-time playback: ``Engine(p, driver="sounddevice"|"null", blocksize=256)``;
                   start/play/pause/stop/seek/set_loop/set_volume/…, events(), stats(), process()
Event              what the audio thread reports: position, meters, xrun, error
studio             the web page over a playing project: ``mt.studio(p)`` -> a handle (``.url``,
                   ``.close()``); OSC remote control with ``osc=9000``
load_plugin        an LV2, CLAP or VST3 plugin as an effect or instrument (`Plugin`, sandbox=True
                   for a worker process); `scan_plugins` finds them, each probed in a child process
Operation          every edit is one (`Project.apply`), the seam of undo
batch              many renders on every core or on Ray: ``batch.render(batch.grid("song.json",
                   {"Drums.volume_db": [-12, 0]}, out="renders/{index:05d}.flac"))`` -> a `Report`
MediaError, ProjectFileError, SaveError, QueueFullError, UnknownIdError, PluginError
                   what goes wrong, naming the file or id
MediaWarning, EffectWarning, RecoveryWarning, ExchangeWarning
                   what opened, but offline (media, effects), beside unsaved work, or
                   imported without what mixtree cannot represent
"""

from mixtree import (
    batch,  # noqa: F401
    exchange,  # noqa: F401 - offers Project.export_dawproject
    jobs,  # noqa: F401 - offers the jobs as Project methods
    studio,  # callable: mt.studio(project) -> a running Studio
)
from mixtree.effects.offline import EffectWarning, OfflineEffect
from mixtree.effects.plugin import Plugin
from mixtree.effects.plugins.scan import scan as scan_plugins
from mixtree.effects.synth import PolySynth
from mixtree.engine.commands import Event
from mixtree.engine.engine import Engine
from mixtree.errors import (
    MediaError,
    MidiFileError,
    MixtreeError,
    PluginError,
    ProjectFileError,
    QueueFullError,
    SaveError,
    UnknownIdError,
)
from mixtree.exchange import ExchangeWarning, import_dawproject, import_otio, import_rpp
from mixtree.io.audio_file import MediaWarning
from mixtree.model.clip import AliasClip, Clip
from mixtree.model.midi import MidiClip, MidiEvent, MidiNote
from mixtree.model.midi_import import export_midi, import_midi
from mixtree.model.operations import Operation
from mixtree.model.pool import AudioPool, Source
from mixtree.model.project import Project
from mixtree.model.project_file import RecoveryWarning, discard_autosaves
from mixtree.model.tempo import TempoMap
from mixtree.model.tracks import AudioTrack, BusTrack, MasterTrack, Metatrack, MidiTrack, Send, Track

__all__ = [
    "AliasClip",
    "AudioPool",
    "AudioTrack",
    "BusTrack",
    "Clip",
    "EffectWarning",
    "Engine",
    "Event",
    "ExchangeWarning",
    "MasterTrack",
    "MediaError",
    "MediaWarning",
    "Metatrack",
    "MidiClip",
    "MidiEvent",
    "MidiFileError",
    "MidiNote",
    "MidiTrack",
    "MixtreeError",
    "OfflineEffect",
    "Operation",
    "Plugin",
    "PluginError",
    "PolySynth",
    "Project",
    "ProjectFileError",
    "QueueFullError",
    "RecoveryWarning",
    "SaveError",
    "Send",
    "Source",
    "TempoMap",
    "Track",
    "UnknownIdError",
    "batch",
    "discard_autosaves",
    "export_midi",
    "import_dawproject",
    "import_midi",
    "import_otio",
    "import_rpp",
    "load_plugin",
    "scan_plugins",
    "studio",
]

__version__ = "0.1.0"


def load_plugin(source: str, *, sandbox: bool = False, **values: float | str) -> Plugin:
    """Return the plugin ``source`` names (an LV2 URI, bundle or name, a ``.clap`` file, a
    ``.vst3`` bundle) as an effect or instrument, with parameter ``values`` (`Plugin`)."""
    return Plugin(source, sandbox=sandbox, **values)

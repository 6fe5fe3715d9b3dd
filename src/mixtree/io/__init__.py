"""Audio and MIDI files; this part knows no model."""

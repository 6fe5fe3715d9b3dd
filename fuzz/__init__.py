"""Fuzzing mixtree's loaders: every input loads or raises the documented error naming the file.

`targets` names what is fuzzed (the audio pool, the SMF reader, project files, the
DAWproject/RPP/OTIO importers) and the property each input must keep; `mutate` makes
inputs from real files; `worker` runs one target in a child process (a per-input time
limit, a memory bound); `engines` drives it for a budget (atheris, coverage-guided, where
it is installed, else the seeded mutator). ``python -m fuzz --minutes N`` runs them all.
"""

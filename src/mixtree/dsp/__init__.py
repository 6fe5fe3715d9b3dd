"""Compiled kernels over arrays; no model, no objects, audio-thread safe."""

"""Real-time playback: the engine, its command and event queues, and the device drivers."""

"""The session: project, tracks, clips, audio pool, and the operations that edit them."""

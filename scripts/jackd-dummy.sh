#!/usr/bin/env bash
# Run the JACK server the tests play into: its dummy driver (no sound card), 48 kHz,
# 256-frame periods. In real-time mode (SCHED_FIFO, as a studio runs JACK) where this
# user may schedule so, which keeps the host's scheduler from stalling its cycles;
# else without.
if chrt -f 1 true 2>/dev/null; then
    exec jackd -R -P 70 -d dummy -r 48000 -p 256
fi
exec jackd --no-realtime -d dummy -r 48000 -p 256

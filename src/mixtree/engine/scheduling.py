"""Real-time scheduling for the audio thread: SCHED_FIFO, where the OS lets this user have it.

A DAW's audio thread must not wait behind ordinary threads: under the default policy the
host preempts it mid-block (on this project's 2-core VM a JACK server without real-time
scheduling saw a callback past its period every few seconds). JACK gives its clients'
threads real-time priority itself when it runs so; a stream that did not get it (PortAudio
on ALSA, the null driver) asks here, once, from its first callback. Root may, and so may
a user whose RLIMIT_RTPRIO allows it (Debian's ``audio`` group: 95).
"""

from __future__ import annotations

import os
import resource

#: The SCHED_FIFO priority the audio thread asks for (near JACK's clients'), or the
#: highest RLIMIT_RTPRIO allows if that is less.
PRIORITY = 70


def is_realtime() -> bool:
    """Return whether the calling thread runs under a real-time policy."""
    try:
        return os.sched_getscheduler(0) in (os.SCHED_FIFO, os.SCHED_RR)
    except (AttributeError, OSError):  # not Linux
        return False


def request_realtime(priority: int = PRIORITY) -> bool:
    """Move the calling thread to SCHED_FIFO at ``priority`` (capped by RLIMIT_RTPRIO
    unless root); return whether it now runs under a real-time policy. A thread that
    already does (a JACK client's) is left as it is. Never raises."""
    if is_realtime():
        return True
    try:
        soft, _ = resource.getrlimit(resource.RLIMIT_RTPRIO)
        if os.geteuid() != 0 and soft != resource.RLIM_INFINITY:
            priority = min(priority, int(soft))
        if priority < 1:
            return False
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(priority))
    except (AttributeError, OSError):  # not Linux, or not allowed
        return False
    return True

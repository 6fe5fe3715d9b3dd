import os
import resource
import threading
import time

import pytest

from mixtree.engine import scheduling
from mixtree.engine.engine import Engine
from mixtree.engine.scheduling import PRIORITY, is_realtime, request_realtime

REALTIME = (os.SCHED_FIFO, os.SCHED_RR)


def _on_thread(call):
    """Return what ``call()`` returns on a new thread, with that thread's policy and priority after it."""
    got = []

    def run():
        result = call()
        got.append((result, os.sched_getscheduler(0), os.sched_getparam(0).sched_priority))

    t = threading.Thread(target=run)
    t.start()
    t.join()
    return got[0]


def _allowed() -> bool:
    """Return whether this user may schedule a thread SCHED_FIFO (root, or an RLIMIT_RTPRIO)."""
    return _on_thread(request_realtime)[0]


def test_a_thread_asks_for_sched_fifo_and_gets_it_where_allowed_alone():
    got, policy, priority = _on_thread(request_realtime)
    assert got == (policy in REALTIME)
    if got:
        assert policy == os.SCHED_FIFO and 1 <= priority <= PRIORITY
    assert os.sched_getscheduler(0) not in REALTIME and not is_realtime()  # this thread is left alone


def test_a_thread_already_real_time_keeps_its_priority():
    if not _allowed():
        pytest.skip("this user may not use real-time scheduling")

    def jack_like():
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(12))  # as a JACK server gives its clients
        return request_realtime()

    assert _on_thread(jack_like) == (True, os.SCHED_FIFO, 12)


def test_the_priority_is_capped_by_rtprio_and_a_refusal_is_no_error(monkeypatch):
    asked = []
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    monkeypatch.setattr(os, "sched_getscheduler", lambda pid: os.SCHED_OTHER)
    monkeypatch.setattr(os, "sched_setscheduler", lambda pid, policy, param: asked.append(param.sched_priority))
    monkeypatch.setattr(resource, "getrlimit", lambda which: (20, 20))  # an audio group's limit, lower
    assert request_realtime() and asked == [20]
    monkeypatch.setattr(resource, "getrlimit", lambda which: (0, 0))  # no real-time for this user
    assert not request_realtime() and asked == [20]

    def refuse(pid, policy, param):
        raise PermissionError(1, "Operation not permitted")

    monkeypatch.setattr(resource, "getrlimit", lambda which: (95, 95))
    monkeypatch.setattr(os, "sched_setscheduler", refuse)
    assert not request_realtime()
    monkeypatch.delattr(os, "sched_getscheduler")  # not Linux
    assert not request_realtime() and not scheduling.is_realtime()


def _audio_thread_policy() -> int:
    (thread,) = [t for t in threading.enumerate() if t.name == "mixtree-null-audio"]
    return os.sched_getscheduler(thread.native_id)


def test_the_engine_s_stream_asks_once_per_start_and_says_whether_it_got_it(project):
    allowed = _allowed()
    for realtime, wanted in ((True, allowed), (None, False), (False, False)):  # None: a device's stream only
        eng = Engine(project, driver="null", blocksize=256, autosave=None, realtime=realtime)
        for _ in range(2):  # a stream started again (a device back) asks again
            with eng:
                eng.play()
                time.sleep(0.1)
                assert eng.stats()["realtime"] is wanted
                assert (_audio_thread_policy() == os.SCHED_FIFO) is wanted
            assert eng.stats()["blocks"] > 10
    device = Engine(project, driver="sounddevice", autosave=None)  # (not started: no device needed)
    assert device.realtime
    device.close()

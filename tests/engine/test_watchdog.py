"""The watchdog: a started driver that stops, or stops calling back, counts as lost."""

from mixtree.engine import watchdog
from mixtree.engine.watchdog import Watchdog


def test_a_driver_that_says_it_stopped_is_lost_at_once():
    dog = Watchdog(256 / 48000, blocks=10, now=0.0)
    assert dog.check(alive=False, blocks=11, now=0.01) == "the stream stopped"


def test_callbacks_that_keep_coming_keep_it_alive_however_long():
    dog = Watchdog(256 / 48000, blocks=0, now=0.0)
    for i in range(1, 100):
        assert dog.check(alive=True, blocks=i, now=i * 0.9) is None


def test_no_callback_for_longer_than_the_limit_is_a_loss_though_the_stream_claims_to_run():
    dog = Watchdog(256 / 48000, blocks=5, now=100.0)
    assert dog.check(alive=True, blocks=5, now=100.0 + watchdog.STALL_LIMIT * 0.9) is None
    reason = dog.check(alive=True, blocks=5, now=100.0 + watchdog.STALL_LIMIT + 0.1)
    assert reason is not None and reason.startswith("no callback for")


def test_the_limit_counts_from_the_last_callback_seen():
    dog = Watchdog(256 / 48000, blocks=0, now=0.0)
    assert dog.check(alive=True, blocks=1, now=watchdog.STALL_LIMIT * 0.8) is None
    assert dog.check(alive=True, blocks=1, now=watchdog.STALL_LIMIT * 1.5) is None
    assert dog.check(alive=True, blocks=1, now=watchdog.STALL_LIMIT * 1.9) is not None


def test_large_blocks_wait_a_number_of_periods_not_a_fixed_time():
    period = 4096 / 8000
    dog = Watchdog(period, blocks=0, now=0.0)
    assert dog.limit == watchdog.STALL_PERIODS * period > watchdog.STALL_LIMIT
    assert dog.check(alive=True, blocks=0, now=dog.limit - 0.01) is None
    assert dog.check(alive=True, blocks=0, now=dog.limit + 0.01) is not None

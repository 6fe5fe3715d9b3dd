import threading

from mixtree.engine.queues import CommandQueue, EventQueue


def test_command_queue_is_fifo_and_refuses_when_full():
    q = CommandQueue(3)
    assert [q.push(i) for i in range(4)] == [True, True, True, False]
    assert [q.pop() for _ in range(4)] == [0, 1, 2, None]
    assert q.push(9) and len(q) == 1


def test_command_queue_passes_every_item_between_two_threads_in_order():
    q = CommandQueue(16)
    received = []
    n = 5_000

    def consume():
        while len(received) < n:
            item = q.pop()
            if item is not None:
                received.append(item)

    t = threading.Thread(target=consume)
    t.start()
    i = 0
    while i < n:
        if q.push(i):
            i += 1
    t.join(timeout=30)
    assert received == list(range(n))


def test_event_queue_drops_the_oldest_and_counts_them():
    q = EventQueue(4)
    for i in range(7):
        q.post(i)
    assert q.dropped == 3
    assert q.drain() == [3, 4, 5, 6]
    assert q.drain() == []

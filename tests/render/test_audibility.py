import numpy as np

from mixtree.render.audibility import audibility


def _run(parent, mute=(), solo=(), safe=(), sends=()):
    n = len(parent)
    arr = [np.zeros(n, np.bool_) for _ in range(3)]
    for a, idx in zip(arr, (mute, solo, safe), strict=True):
        a[list(idx)] = True
    src = np.array([s for s, _ in sends], np.int32)
    dst = np.array([d for _, d in sends], np.int32)
    out = np.zeros(n, np.bool_)
    audibility(np.array(parent, np.int32), *arr, src, dst, np.zeros(n, np.bool_), out)
    return out.tolist()


def test_without_solo_everything_unmuted_sounds():
    assert _run([-1, 0, 0, 0], mute=[2]) == [True, True, False, True]


def test_solo_silences_the_others_but_not_the_master():
    assert _run([-1, 0, 0, 0], solo=[2]) == [True, False, True, False]


def test_solo_inside_a_group_keeps_its_ancestors_open_and_siblings_shut():
    # 0 master; 1 group; 2, 3 in group; 4 top-level
    assert _run([-1, 0, 1, 1, 0], solo=[3]) == [True, True, False, True, False]


def test_soloing_a_group_soloes_its_subtree():
    assert _run([-1, 0, 1, 1, 0], solo=[1]) == [True, True, True, True, False]


def test_solo_safe_tracks_stay_open_and_mute_wins_over_solo():
    assert _run([-1, 0, 0, 0], solo=[1], safe=[3]) == [True, True, False, True]
    assert _run([-1, 0, 0], solo=[1], mute=[1]) == [True, False, False]


def test_a_soloed_track_keeps_the_buses_it_feeds_and_their_chain_open():
    # 0 master; 1 track sends to bus 2, which sends to bus 3; 4 another track
    assert _run([-1, 0, 0, 0, 0], solo=[1], sends=[(1, 2), (2, 3)]) == [True, True, True, True, False]
    # a bus inside a group opens the group, not the group's other children
    assert _run([-1, 0, 0, 2, 2], solo=[1], sends=[(1, 3)]) == [True, True, True, True, False]

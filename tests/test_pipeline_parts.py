"""The parts of the image pipeline, on their own: CaseCache, Batcher, ReplicaFeed."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from clara_core.components.transform import Transformer
from clara_core.data.batcher import Batcher
from clara_core.data.cache import DiskStore, smart_window
from clara_core.data.case_cache import CaseCache
from clara_core.data.chain import CaseError
from clara_core.data.replica_feed import ReplicaFeed
from clara_core.data.shard import Shard
from clara_core.errors import ClaraError
from clara_core.image.medical_image import MedicalImage
from clara_core.image.transform_ctx import TransformContext


class Counting:
    """A prefix that makes case ``i`` an image of value ``i`` and counts its runs;
    ``bad`` cases raise CaseError."""

    def __init__(self, bad=()):
        self.runs: dict[int, int] = {}
        self.bad = set(bad)
        self.lock = threading.Lock()

    def __call__(self, index):
        with self.lock:
            self.runs[index] = self.runs.get(index, 0) + 1
        if index in self.bad:
            raise CaseError(f"case {index} is bad")
        ctx = TransformContext({"id": index})
        for field in ("image", "label"):
            ctx.set_image(field, MedicalImage(np.full((1, 4, 4), index, np.float32), "CHW"))
        return ctx


class Noise(Transformer):
    """A random transform: adds seeded noise to the image."""

    def __init__(self):
        self.rng = np.random.default_rng()

    def is_deterministic(self):
        return False

    def set_random_state(self, seed):
        self.rng = np.random.default_rng(seed)

    def transform(self, ctx):
        image = ctx.get_image("image")
        noisy = image.get_data() + self.rng.normal(size=image.get_data().shape)
        ctx.set_image("image", image.new_image(noisy.astype(np.float32),
                                               image.get_shape_format()))
        return ctx


# -- CaseCache ---------------------------------------------------------------------------

def test_case_cache_runs_the_prefix_once_and_shares_read_only_arrays():
    load = Counting()
    cache = CaseCache(load)
    assert cache.fill(range(5), workers=3) == 5
    first = cache.get(2).get_image("image").get_data()
    assert cache.get(2).get_image("image").get_data() is first and not first.flags.writeable
    assert load.runs == {i: 1 for i in range(5)}
    uncached = CaseCache(load, memory=False)
    uncached.get(0), uncached.get(0)
    assert load.runs[0] == 3 and len(uncached) == 0


def test_smart_cache_turn_evicts_and_loads_the_next_cases_in_the_background():
    load = Counting()
    cache = CaseCache(load)
    for epoch in range(4):
        now, upcoming = (smart_window(e, 8, 4, 0.5) for e in (epoch, epoch + 1))
        cache.turn(now, upcoming)
        for i in now:
            cache.get(i)
        assert len(cache) <= 6  # this epoch's 4 and the next epoch's 2 replacements
    cache.wait()
    # cases 0-3 were evicted after epochs 0 and 1 and loaded again in the background, 0
    # and 1 for epoch 3 and 2 and 3 for epoch 4 during epoch 3; none twice while held
    assert load.runs == {0: 2, 1: 2, 2: 2, 3: 2, 4: 1, 5: 1, 6: 1, 7: 1}


def test_case_cache_reads_its_disk_store_back_instead_of_loading(tmp_path):
    load = Counting()
    first = CaseCache(load, store=DiskStore(str(tmp_path)), key=lambda i: f"case{i}")
    first.fill(range(3))
    again = CaseCache(load, store=DiskStore(str(tmp_path)), key=lambda i: f"case{i}")
    assert again.get(1)["id"] == 1 and load.runs == {0: 1, 1: 1, 2: 1}
    with pytest.raises(ValueError, match="a store needs a key"):
        CaseCache(load, store=DiskStore(str(tmp_path)))


def test_case_cache_stops_at_a_bad_case_or_skips_and_lists_it():
    with pytest.raises(CaseError, match="case 1 is bad\n.*skip_bad_cases"):
        CaseCache(Counting(bad=[1])).get(1)
    load = Counting(bad=[1])
    cache = CaseCache(load, skip_bad_cases=True)
    assert cache.get(1) is None and cache.get(1) is None
    assert cache.bad_cases == {1: "case 1 is bad"} and load.runs == {1: 1}  # read once


# -- Batcher -----------------------------------------------------------------------------

def batcher(workers, **kw):
    cache = CaseCache(Counting(bad=kw.pop("bad", ())), skip_bad_cases=True)
    return Batcher(cache.get, [Noise()], **{"seed": 3, "num_workers": workers,
                                            "batch_size": 2, **kw})


def test_batcher_gives_the_same_batches_whatever_the_worker_count():
    def epoch(b, e):
        return [im for im, _ in b.batches(e, b.order(range(6), e))]

    one, three = batcher(1), batcher(3)
    assert all(np.array_equal(x, y) for x, y in zip(epoch(one, 0), epoch(three, 0),
                                                     strict=True))
    assert not np.array_equal(epoch(one, 0)[0], epoch(one, 1)[0])
    assert sorted(one.order(range(6), 0)) == list(range(6)) != one.order(range(6), 0)


def test_batcher_layout_labels_and_the_repeat_to_fill_one_batch():
    b = batcher(1, data_format="channels_last", shuffle=False, batch_size=4,
                label_of=lambda ctx: np.array([ctx["id"]]))
    (images, labels), = b.batches(0, range(3))  # 3 samples, batch of 4: one batch
    assert images.shape == (4, 4, 4, 1) and images.dtype == np.float32
    assert labels[:, 0].tolist() == [0, 1, 2, 0]


def test_batcher_skips_the_cases_it_is_told_are_bad_and_records_the_ones_it_rejects():
    def label_of(ctx):
        if ctx["id"] == 4:
            raise CaseError("no label")
        return ctx.get_image("label")

    bad: dict[int, str] = {}
    b = batcher(2, bad=[1], bad_cases=bad, shuffle=False, label_of=label_of)
    assert [len(b.case_samples(0, i)) for i in range(6)] == [1, 0, 1, 1, 0, 1]
    assert bad == {4: "no label"}
    b.bad_cases = None
    with pytest.raises(CaseError, match="no label"):
        b.case_samples(0, 4)


def test_batch_transforms_see_the_stacked_batch():
    class Double(Transformer):
        def transform(self, ctx):
            image = ctx.get_image("image")
            assert str(image.get_shape_format()) == "NCHW"
            ctx.set_image("image", image.new_image(image.get_data() * 2, "NCHW"))
            return ctx

    b = Batcher(Counting(), [], batch_size=2, shuffle=False, batch_transforms=[Double()])
    images, _ = next(b.batches(0, [3, 4]))
    assert images[:, 0, 0, 0].tolist() == [6.0, 8.0]


# -- ReplicaFeed -------------------------------------------------------------------------

def test_replica_feed_gives_every_replica_its_own_cases_and_equal_steps():
    window = list(range(5))
    both = ReplicaFeed(Shard((0, 1), 2), batcher(2)).epoch(1, window)
    alone = [list(ReplicaFeed(Shard((g,), 2), batcher(1)).epoch(1, window)) for g in (0, 1)]
    both = list(both)
    assert len(both) == 2 and [len(a) for a in alone] == [2, 2]  # the smaller share: 2 cases
    for step, per in enumerate(both):
        for g in (0, 1):
            assert per[g][0].shape == (1, 1, 4, 4)
            assert int(per[g][1][0, 0, 0, 0]) % 2 == g  # replica g owns the cases i % 2 == g
            np.testing.assert_array_equal(per[g][0], alone[g][step][0][0])


def test_replica_feed_refuses_an_uneven_split_and_replicas_without_cases():
    with pytest.raises(ClaraError, match="output_batch_size 2 does not split over 3"):
        ReplicaFeed(Shard((0,), 3), batcher(1))
    feed = ReplicaFeed(Shard((0, 1), 2), batcher(1))
    with pytest.raises(ClaraError, match="cannot give each of 2 replicas a case"):
        feed.epoch(0, [0])
    with pytest.raises(ClaraError, match="Every training case of this replica"):
        list(ReplicaFeed(Shard((0, 1), 2), batcher(1, bad=[0, 2])).epoch(0, range(4)))

"""clara plan's rules on fingerprints with known answers."""

from __future__ import annotations

import pytest

from clara_core.plan import rules, schedule
from clara_core.plan.fingerprint import CaseFingerprint, Fingerprint
from clara_core.plan.planner import Options, make_plan

CPU3 = rules.profile(None, None, 3).value
CPU2 = rules.profile(None, None, 2).value
GPU = rules.profile(None, 24.0, 3).value


def fingerprint(shape, spacing, channels=1, modalities=None, cases=4, intensity=None):
    cs = [CaseFingerprint(f"c{i}", list(shape), list(spacing), channels,
                          class_voxels={0: 1000, 1: 100}) for i in range(cases)]
    stats = intensity or [{"percentile_00_5": 0.0, "percentile_99_5": 1.0, "mean": 0.5,
                           "std": 0.2}] * channels
    return Fingerprint(cs, modalities or ["MR"] * channels, {0: "bg", 1: "fg"}, stats)


def test_isotropic_volumes_keep_their_median_spacing_and_pool_every_axis():
    d = rules.target_spacing([[1.0] * 3, [1.0] * 3, [1.5] * 3], [[128, 128, 128]] * 3)
    assert d.value == [1.0, 1.0, 1.0] and "median" in d.reason
    topo = rules.topology([64, 64, 64], [1.0, 1.0, 1.0], 3).value
    assert topo["strides"] == [[1, 1, 1]] + [[2, 2, 2]] * 4  # 64 -> 4 voxels
    assert topo["kernels"] == [[3, 3, 3]] * 5 and topo["divisors"] == [16, 16, 16]


def test_an_anisotropic_axis_gets_its_10th_percentile_and_in_plane_kernels_first():
    spacings = [[0.7, 0.7, 5.0], [0.8, 0.8, 4.0], [0.7, 0.7, 3.0], [0.75, 0.75, 5.0]]
    shapes = [[512, 512, 30]] * 4
    d = rules.target_spacing(spacings, shapes)
    assert d.value[2] == pytest.approx(3.3) and "anisotropic" in d.reason
    topo = rules.topology([192, 192, 24], d.value[:2] + [3.3], 3).value
    assert topo["kernels"][0] == [3, 3, 1] and topo["strides"][1] == [2, 2, 1]
    assert topo["strides"][2][2] == 1 and topo["strides"][3][2] == 2  # once in-plane caught up


def test_anisotropic_spacing_with_many_slices_keeps_the_median():
    spacings = [[0.7, 0.7, 5.0]] * 3
    assert rules.target_spacing(spacings, [[512, 512, 200]] * 3).value == [0.7, 0.7, 5.0]


def test_2d_images_plan_a_2d_network_with_the_2d_profile():
    fp = fingerprint([300, 400], [1.0, 1.0])
    plan = make_plan(fp, Options(), 4)
    assert plan["dimensionality"] == "2d"
    assert len(plan["patch_size"]) == 2 and plan["patch_size"][0] * plan["patch_size"][1] <= 128 ** 2
    assert all(len(k) == 2 for k in plan["topology"]["kernels"]) and plan["filters"][0] == 16


def test_slices_stored_one_voxel_thick_plan_a_2d_network_on_their_other_axes():
    fp = fingerprint([300, 1, 400], [0.5, 5.0, 0.8])
    plan = make_plan(fp, Options(), 4)
    assert plan["one_slice_axis"] == 1 and plan["dimensionality"] == "2d"
    assert plan["target_spacing"] == [0.5, 0.8] and len(plan["patch_size"]) == 2
    assert all(len(k) == 2 for k in plan["topology"]["kernels"])
    mixed = fingerprint([30, 1, 40], [1.0] * 3, cases=2)
    mixed.cases[1].shape = [30, 2, 40]  # one case of two slices: a (thin) volume set
    assert "one_slice_axis" not in make_plan(mixed, Options(), 2).decisions


def test_a_volume_too_thin_to_pool_gets_in_plane_kernels():
    d = rules.dimensionality(3, [200.0, 200.0, 5.0])
    assert d.value == "3d" and "2D-like" in d.reason
    topo = rules.topology([128, 128, 5], [1.0, 1.0, 1.0], 3).value
    assert all(s[2] == 1 for s in topo["strides"])


def test_patch_shrinks_to_the_memory_budget_and_batch_grows_into_it():
    small = rules.patch_size([300, 300, 300], [1.0] * 3, 3, rules.profile(2.0, None, 3).value)
    large = rules.patch_size([300, 300, 300], [1.0] * 3, 3, GPU)
    assert 0 < _volume(small.value) < _volume(large.value)
    topo = rules.topology(large.value, [1.0] * 3, 3).value
    feats = rules.filters(len(topo["strides"]), GPU)
    assert rules.memory_gb(large.value, topo["strides"], feats, 2) <= GPU.memory_gb
    assert feats[0] == 32 and max(feats) == 320
    tiny = rules.batch_size([32, 32, 32], topo["strides"], feats, GPU, 1e9)
    assert tiny.value > 2


def test_cpu_profile_patch_fits_its_voxel_cap_and_median_shape():
    d = rules.patch_size([49, 117, 64], [2.0] * 3, 3, CPU3)
    assert _volume(d.value) <= CPU3.cpu_patch_voxels and d.value[1] == max(d.value)


def test_ct_is_clipped_and_z_scored_with_the_dataset_foreground():
    stats = [{"percentile_00_5": -100.0, "percentile_99_5": 300.0, "mean": 100.0, "std": 50.0}]
    d = rules.normalisation(["CT"], stats, 1.0)
    assert d.value == {"kind": "ct", "a_min": -100.0, "a_max": 300.0, "b_min": -4.0,
                       "b_max": 4.0}


def test_mr_rgb_and_multichannel_normalisation():
    stats = [{"percentile_00_5": 0.0, "percentile_99_5": 1.0, "mean": 0.5, "std": 0.2}]
    assert rules.normalisation(["MR"], stats, 1.0).value == {"kind": "zscore"}
    assert rules.normalisation(["T1"], stats, 0.4).value == {"kind": "zscore_nonzero"}
    assert rules.normalisation(["FLAIR", "T1"], stats * 2, 1.0).value["kind"] == "zscore_nonzero"
    assert rules.normalisation(["RGB"] * 3, stats * 3, 1.0).value == {"kind": "rgb"}


def test_ct_and_mr_channels_are_normalised_each_by_its_modality():
    from clara_core.plan.configs import normalisers

    ct = {"percentile_00_5": -100.0, "percentile_99_5": 300.0, "mean": 100.0, "std": 50.0}
    mr = {"percentile_00_5": 0.0, "percentile_99_5": 1.0, "mean": 0.5, "std": 0.2}
    d = rules.normalisation(["CT", "MR", "ADC"], [ct, mr, mr], 1.0)
    assert d.value["kind"] == "per_channel" and "channel 1 (MR): z-score" in d.reason
    assert d.value["channels"][0] == {"kind": "ct", "a_min": -100.0, "a_max": 300.0,
                                      "b_min": -4.0, "b_max": 4.0}
    chain = normalisers(d.value)
    assert [(t["name"], t["args"]["channels"]) for t in chain] == [
        ("ScaleIntensityRange", [0]), ("NormalizeNonzeroIntensities", [1, 2])]
    two_ct = normalisers(rules.normalisation(["CT", "CT"], [ct, mr], 1.0).value)
    assert [(t["args"]["channels"], t["args"]["a_max"]) for t in two_ct] == [([0], 300.0),
                                                                             ([1], 1.0)]


def test_multichannel_plan_keeps_its_channels_in_the_step_estimate():
    one = make_plan(fingerprint([64] * 3, [1.0] * 3), Options(time_budget_min=1), 4)
    four = make_plan(fingerprint([64] * 3, [1.0] * 3, channels=4), Options(time_budget_min=1), 4)
    assert four["epochs"] <= one["epochs"]


def test_schedule_rules():
    assert schedule.optimizer(300).value["name"] == "Adam"
    assert schedule.optimizer(300_000).value["args"] == {"momentum": 0.99, "nesterov": True}
    assert schedule.epochs(7, None, 4, 0.1, True).value == 7
    assert schedule.epochs(None, 1.0, 10, 0.1, True).value == 51
    assert schedule.oversampling([32] * 3, [200] * 3).value == {"pos": 3, "neg": 1}
    assert schedule.oversampling([32] * 3, [32] * 3).value == {"pos": 1, "neg": 2}
    chain = schedule.augmentation(3, [3, 3, 1], cpu=True).value
    assert chain[0]["args"]["angle"] == [15.0, 15.0, 0.0]


def test_every_decision_has_a_reason():
    plan = make_plan(fingerprint([49, 117, 64], [2.0] * 3), Options(), 4)
    assert all(d.reason for d in plan.decisions.values())
    assert plan["patch_size"] == rules.patch_size([49, 117, 64], [2.0] * 3, 3, CPU3).value


def _volume(patch):
    out = 1
    for p in patch:
        out *= p
    return out

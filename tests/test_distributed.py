"""``tf.distribute``: MirroredStrategy over two logical CPU devices trains like one device.

TensorFlow fixes its logical devices when it first initialises, so the comparison
runs in a fresh interpreter: two Trainers on the same MMAR and seed, one with the
default strategy, one mirrored over ``/cpu:0`` and ``/cpu:1`` (each replica gets
half of every batch), must give the same losses and validation Dice. The U-Net
uses instance normalisation here: batch normalisation sees each replica's half
batch, so its statistics (and the losses) legitimately differ from one device.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

from train_mmar import make_train_mmar

SCRIPT = textwrap.dedent("""
    import json, sys
    import tensorflow as tf
    cpu = tf.config.list_physical_devices("CPU")[0]
    tf.config.set_logical_device_configuration(
        cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
    from clara_core.config.builder import build_config
    from clara_core.config.loader import load_config, locate
    from clara_core.workflow.trainer import Trainer

    def train(folder, strategy):
        config, env, root = locate(sys.argv[1], None, None)
        sets = [f"MMAR_CKPT_DIR={folder}", "train.model.args.normalization=instance"]
        loaded = load_config(config, env, sets, root)
        trainer = Trainer(build_config(loaded), log=lambda *a: None, strategy=strategy,
                          progress=False)
        result = trainer.run()
        return {"replicas": trainer.strategy.num_replicas_in_sync, "losses": result.losses,
                "dice": result.metrics["mean_dice"]}

    one = train("models_one", None)
    two = train("models_two", tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"]))
    print(json.dumps({"one": one, "two": two}))
""")


def test_mirrored_over_two_cpu_devices_matches_one_device(tmp_path):
    root = make_train_mmar(tmp_path, epochs=2)
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(root)], capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    result = json.loads(out.stdout.strip().splitlines()[-1])
    one, two = result["one"], result["two"]
    assert (one["replicas"], two["replicas"]) == (1, 2)
    assert len(one["losses"]) == 2
    for a, b in zip(one["losses"], two["losses"], strict=True):
        assert abs(a - b) <= 1e-4 * max(abs(a), 1e-3), (one, two)
    assert abs(one["dice"] - two["dice"]) <= 1e-3, (one, two)

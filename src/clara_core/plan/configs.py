"""The plan as the MMAR's configs: ``config_train.json`` and ``config_validation.json``,
ordinary configs of catalog components that any ``clara`` command runs unchanged."""

from __future__ import annotations

from typing import Any

from clara_core.plan.planner import Plan

FMT = "channels_last"
PIPELINE_ARGS = {"data_list_file_path": "{DATASET_JSON}", "data_file_base_dir": "{DATA_ROOT}",
                 "num_workers": 2, "output_data_format": FMT}


def _t(component: str, /, **args: Any) -> dict[str, Any]:
    return {"name": component, "args": args}


def deterministic(plan: Plan, loaders: dict[str, str], fields: list[str]) -> list[dict[str, Any]]:
    """Loading, channels first, resampling and normalisation of ``fields``."""
    chain: list[dict[str, Any]] = []
    by_loader: dict[str, list[str]] = {}
    for f in fields:
        by_loader.setdefault(loaders[f], []).append(f)
    chain += [_t(name, fields=fs) for name, fs in by_loader.items()]
    if "one_slice_axis" in plan.decisions:
        chain.append(_t("SqueezeSpatialAxis", fields=fields, axis=plan["one_slice_axis"]))
    chain.append(_t("ConvertToChannelsFirst", fields=fields))
    if plan["resample"] and "image" in fields:
        chain.append(_t("ScaleBySpacing", fields="image", target_spacing=plan["target_spacing"]))
    if plan["resample"] and "label" in fields:
        chain.append(_t("ScaleBySpacing", fields="label", target_spacing=plan["target_spacing"],
                        is_label=True))
    if "image" in fields:
        chain += normalisers(plan["normalisation"])
    out = plan["outputs"]
    if "label" in fields and out.get("values"):
        chain.append(_t("MapLabelValue", fields="label", orig_labels=out["values"],
                        target_labels=list(range(len(out["values"])))))
    if "label" in fields and out["kind"] == "regions":
        painted = {"regions_class_order": out["class_order"]} if out.get("class_order") else {}
        chain.append(_t("ConvertToMultiChannelBasedOnLabel", fields="label",
                        labels=list(out["regions"].values()), **painted))
    return chain


def normalisers(norm: dict[str, Any]) -> list[dict[str, Any]]:
    """The intensity transforms the normalisation decision names: one, or per channel
    (``per_channel``) one for each CT channel and one for the others."""
    if norm["kind"] != "per_channel":
        return [normaliser(norm)]
    out = [normaliser(n, channels=[c]) for c, n in enumerate(norm["channels"])
           if n["kind"] == "ct"]
    rest = [c for c, n in enumerate(norm["channels"]) if n["kind"] != "ct"]
    if rest:
        out.append(normaliser({"kind": "zscore_nonzero"}, channels=rest))
    return out


def normaliser(norm: dict[str, Any], channels: list[int] | None = None) -> dict[str, Any]:
    """The intensity transform the normalisation decision names (of ``channels`` only,
    when given: CT or z-score of the non-zero voxels)."""
    kind = norm["kind"]
    only = {} if channels is None else {"channels": channels}
    if kind == "ct":
        return _t("ScaleIntensityRange", fields="image", a_min=norm["a_min"],
                  a_max=norm["a_max"], b_min=norm["b_min"], b_max=norm["b_max"], clip=True,
                  **only)
    if kind == "rgb":
        return _t("ScaleIntensityRange", fields="image", a_min=0.0, a_max=255.0, b_min=0.0,
                  b_max=1.0, clip=True)
    if kind == "zscore_nonzero":
        return _t("NormalizeNonzeroIntensities", fields="image", **only)
    return _t("CenterData", fields="image")


def regions(plan: Plan) -> bool:
    """Whether the plan trains region-based (sigmoid) outputs."""
    return bool(plan["outputs"]["kind"] == "regions")


def model(plan: Plan) -> dict[str, Any]:
    topo = plan["topology"]
    supr = plan["deep_supervision"]
    sigmoid = {"final_activation": "sigmoid"} if regions(plan) else {}
    return _t("DynUNet", num_classes=plan["outputs"]["channels"], kernel_size=topo["kernels"],
              strides=topo["strides"], filters=plan["filters"],
              normalization=plan["norm_layer"], deep_supervision=bool(supr),
              deep_supr_num=max(1, supr), data_format=FMT, **sigmoid)


def dice_metric(plan: Plan) -> dict[str, Any]:
    """The key metric: mean Dice over the classes, or over the region channels (each
    region's value named by the region)."""
    per_channel = {"is_one_hot_targets": True, "remove_bg": False,
                   "class_names": list(plan["outputs"]["regions"])} if regions(plan) else {}
    return _t("ComputeAverageDice", name="mean_dice", field="model", label_field="label",
              is_key_metric=True, report_path="{MMAR_EVAL_OUTPUT_PATH}", **per_channel)


def train_config(plan: Plan, loaders: dict[str, str], seed: int = 12345) -> dict[str, Any]:
    """``config_train.json``: the plan's chain, network, loss, optimizer and schedule."""
    over, opt = plan["oversampling"], plan["optimizer"]
    crop = _t("CropByPosNegRatio", size=plan["patch_size"], image_field="image",
              label_field="label", pos=over["pos"], neg=over["neg"],
              num_samples=plan["crops_per_case"])
    augment = [dict(a, args=dict(a["args"])) for a in plan["augmentation"]]
    train = {
        "loss": _t(plan["loss"]["name"], **plan["loss"]["args"], data_format=FMT),
        "optimizer": {"name": opt["name"], "args": opt["args"]},
        "lr_policy": plan["lr_policy"],
        "model": model(plan),
        "pre_transforms": [*deterministic(plan, loaders, ["image", "label"]), crop, *augment],
        "image_pipeline": _t("SegmentationImagePipeline", **PIPELINE_ARGS,
                             data_list_key="training", output_batch_size=plan["batch_size"],
                             prefetch_size=2),
        "aux_ops": [_t("TrainDice", data_format=FMT, **(
            {"is_onehot_targets": True, "skip_background": False} if regions(plan) else {}))],
    }
    return {
        "epochs": plan["epochs"],
        "num_training_epoch_per_valid": plan["validation_interval"],
        "learning_rate": opt["learning_rate"],
        "multi_gpu": False,
        "use_amp": plan["profile"].device == "gpu",
        "determinism": {"random_seed": seed},
        "train": train,
        "validate": {
            "metrics": [dice_metric(plan)],
            "pre_transforms": deterministic(plan, loaders, ["image", "label"]),
            "image_pipeline": _t("SegmentationImagePipeline", **PIPELINE_ARGS,
                                 data_list_key="validation", output_batch_size=1),
            "inferer": plan["inferer"],
        },
    }


def validation_config(plan: Plan, loaders: dict[str, str]) -> dict[str, Any]:
    """``config_validation.json`` for ``clara validate``: the best checkpoint, the same
    sliding window, Dice per class."""
    return {
        "inferer": plan["inferer"],
        "model_loader": _t("CheckpointLoader", checkpoint_dir="{MMAR_CKPT_DIR}"),
        "pre_transforms": deterministic(plan, loaders, ["image"]),
        # region channels are thresholded by the metric: no argmax
        "post_transforms": [] if regions(plan) else [_t("ArgmaxAcrossChannels", fields="model")],
        "label_transforms": deterministic(plan, loaders, ["label"]),
        "val_metrics": [dice_metric(plan)],
    }


#: the fused spatial augmentations whose probability ``--search`` searches together
SEARCHED_AUGMENTATIONS = ("RandomRotate2D", "RandomRotate3D", "RandomZoom")


def add_search(train: dict[str, Any]) -> None:
    """The AutoML search space of ``--search``, in the SDK's language: the learning rate
    (a tenth to 3x the plan's, top level), the network's width (the planned filters
    halved, as planned, doubled) and one shared probability of the rotation and
    scaling (0 to 0.5). ``clara train`` trains the planned values as its defaults."""
    lr = float(train["learning_rate"])
    train["search"] = [{"domain": "lr", "type": "float", "args": ["learning_rate"],
                        "targets": [lr / 10, lr * 3]}]
    model = train["train"]["model"]
    filters = list(model["args"]["filters"])
    model["search"] = [{"domain": "net", "type": "enum", "args": ["filters"], "targets": [
        [[max(2, f // 2) for f in filters]], [filters], [[2 * f for f in filters]]]}]
    augment = [t for t in train["train"]["pre_transforms"]
               if t.get("name") in SEARCHED_AUGMENTATIONS]
    if augment:
        augment[0]["search"] = [{"domain": "transform", "type": "float",
                                 "args": ["probability#augmentProbability"],
                                 "targets": [0.0, 0.5]}]
        for t in augment[1:]:
            t["apply"] = {"probability": "augmentProbability"}


def automl_config(rounds: int = 8) -> dict[str, Any]:
    """``config_automl.json`` for ``clara automl``: TPE over the search space, each trial
    an MMAR trained by ``clara train``, the best one kept."""
    return {"controller": {"name": "TPEController", "args": {"max_rounds": rounds, "seed": 1}},
            "handlers": [{"name": "MMARHandler", "args": {"num_mmars_to_keep": 1}},
                         {"name": "StatsHandler"}],
            "executor": {"name": "MMARExecutor", "args": {"remove_search_augs": True}}}

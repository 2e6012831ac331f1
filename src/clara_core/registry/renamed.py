"""Component names from before Clara Train 3 (the Transfer Learning Toolkit, TLT).

The SDK's "Converting from previous TLT" page maps the TLT transforms to their Clara
Train 3 names; a config still using an old name is refused in one line that names
the new one (its arguments may have changed too).

>>> print(renamed_hint("transform", "LoadNifty"))
'LoadNifty' is the TLT name (before Clara Train 3) of 'LoadNifti': write "name": "LoadNifti" (check its arguments: clara components show LoadNifti).
>>> renamed_hint("transform", "LoadNifti") is None
True
"""

from __future__ import annotations

#: kind -> {TLT name: Clara Train 3 name}, the rows read from the SDK's mapping page
TLT_NAMES: dict[str, dict[str, str]] = {
    "transform": {
        "LoadNifty": "LoadNifti",
        "TransformVolumeCropROIFastPosNegRatio": "FastPosNegRatioCropROI",
        "CropSubVolumeBatchPosNegRatio": "CropByPosNegRatio",
        "VolumeTo4DArray": "ConvertToChannelsFirst",
    },
}


def renamed_hint(kind: str, name: str) -> str | None:
    """The line saying what to write instead of a TLT name, or None."""
    new = TLT_NAMES.get(kind, {}).get(name)
    if new is None:
        return None
    return (f"{name!r} is the TLT name (before Clara Train 3) of {new!r}: write "
            f"\"name\": \"{new}\" (check its arguments: clara components show {new}).")


__all__ = ["TLT_NAMES", "renamed_hint"]

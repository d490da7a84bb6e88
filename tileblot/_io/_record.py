"""The record an output store keeps: what was blotted, as JSON, read back and compared.

The root group's ``attrs["tileblot"]`` (also copied onto ``image``) holds the
plan's record (:meth:`tileblot._engine._plan.BlotPlan.record`) and tileblot's
version. It is written JSON-safe (:func:`json_safe`), checked when read back
(:func:`read_record`: a damaged record is named, not a ``KeyError`` later), and
compared with a new plan's on resume (:func:`check_resumable`).
"""

import json
import math

from ._identity import difference
from ._layout import ATTR
from ._locations import store_label

#: What a damaged store needs: it cannot be resumed or repaired in place.
REMEDY = "run the job again with overwrite=True (--overwrite)"

_NON_FINITE = ("NaN", "Infinity", "-Infinity")


def json_safe(value):
    """``value`` with every non-finite float spelled as zarr v3 spells fill values.

    ``NaN``, ``Infinity`` and ``-Infinity`` become the strings ``"NaN"``,
    ``"Infinity"`` and ``"-Infinity"``: JSON has no such numbers (Python's
    ``json`` writes them bare, which other readers reject), and ``float()``
    reads these strings back.
    """
    if isinstance(value, float) and not math.isfinite(value):
        return "NaN" if math.isnan(value) else ("Infinity" if value > 0 else "-Infinity")
    if isinstance(value, dict):
        return {key: json_safe(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(item) for item in value]
    return value


def _is_number(value):
    return (isinstance(value, (int, float)) and not isinstance(value, bool)) or (
        value in _NON_FINITE)


def read_record(group, store):
    """The record of the output ``group``, numbers restored, or ``ValueError`` if damaged."""
    record = group.attrs[ATTR]
    if not isinstance(record, dict):
        bad = ["the record"]
    else:
        params = record.get("params")
        bad = [] if isinstance(params, dict) and all(
            _is_number(params[key]) for key in ("fillval", "iscale") if key in params
        ) else ["params"]
        bad += [key for key in ("shape", "chunks")
                if not (isinstance(record.get(key), list) and len(record[key]) == 2
                        and all(isinstance(n, int) and n > 0 for n in record[key]))]
    if bad:
        raise ValueError(f"output store {store_label(store)} has a damaged record: "
                         f"{' and '.join(bad)} not as tileblot writes them; {REMEDY}")
    record = dict(record)
    # Numbers again, NaN included (see json_safe).
    record["params"] = {key: float(value) if value in _NON_FINITE else value
                        for key, value in record["params"].items()}
    return record


def _canonical(value):
    # Through JSON, as the store keeps it: tuples and lists compare equal, and NaN (a record
    # written before json_safe) equals "NaN".
    return json.dumps(json_safe(value), sort_keys=True)


def same_record(first, second):
    """Whether two records are the same as the store keeps them (through JSON)."""
    return _canonical(first) == _canonical(second)


_RECORD_WORDS = {
    "shape": "output shape",
    "chunks": "tile size",
}


def _show(value):
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    if isinstance(value, list):
        return " x ".join(str(v) for v in value)
    return str(value)


def check_resumable(store, recorded, record):
    """Refuse a resume whose plan differs from the store's, naming what differs."""
    then_params, now_params = recorded.get("params") or {}, record["params"]
    changed = [k for k in sorted(set(then_params) | set(now_params))
               if _canonical(then_params.get(k)) != _canonical(now_params.get(k))]
    if changed:
        details = "; ".join(f"{k}={_show(then_params.get(k))} then, {_show(now_params.get(k))} "
                            "now" for k in changed)
        raise ValueError(f"cannot resume {store_label(store)}: the job started with other "
                         f"parameters ({details})")
    for key in ("shape", "chunks"):
        then, now = _canonical(recorded.get(key)), _canonical(record[key])
        if then != now:
            raise ValueError(
                f"cannot resume {store_label(store)}: its {_RECORD_WORDS[key]} differs: the job "
                f"started with {_show(recorded.get(key))}, this run has {_show(record[key])}"
            )
    for key in ("data", "pixmap"):
        reason = difference(key, recorded.get(key), record[key])
        if reason:
            raise ValueError(f"cannot resume {store_label(store)}: {reason}")

"""Save and load models in TensorFlow.js's layers-model format (model.json + weights.bin).

model.json holds ``modelTopology`` (Keras JSON), ``weightsManifest`` (names, shapes, dtypes of
the weights in file order), ``format``, ``generatedBy``, ``convertedBy`` and, when the optimizer
is included, ``trainingConfig``. weights.bin is the weights' raw little-endian bytes, in manifest
order. Files written by TensorFlow.js load here and files written here load in TensorFlow.js.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import clflow as tf
import numpy as np

TFJS_LAYERS_VERSION = "4.22.0"  # the tfjs-layers release whose format and text we follow
FORMAT = "layers-model"
WEIGHTS_FILE = "weights.bin"
MODEL_FILE = "model.json"
_DTYPES = {"float32": "<f4", "int32": "<i4", "bool": "|u1"}
_QUANTIZED = {"uint8": "|u1", "uint16": "<u2", "float16": "<f2"}


def _version() -> str:
    try:
        from importlib.metadata import version

        return version("clflow")
    except Exception:  # not installed as a distribution (a source checkout)
        return "0.1.0"


def model_topology(model: Any) -> dict[str, Any]:
    """The Keras-JSON ``modelTopology`` TF.js writes for a model."""
    return {
        "class_name": model.class_name,
        "config": model.get_config(),
        "keras_version": f"tfjs-layers {TFJS_LAYERS_VERSION}",
        "backend": "tensor_flow.js",
    }


def _jsify(value: Any) -> Any:
    """Integral floats as ints, as JavaScript's JSON.stringify writes them (1.0 -> 1)."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {k: _jsify(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsify(v) for v in value]
    return value


def _paths(path: str | os.PathLike) -> tuple[Path, Path]:
    """(model.json path, directory) from a directory, a model.json path or a file:// URL."""
    text = os.fspath(path)
    if text.startswith("file://"):
        text = text[len("file://") :]
    p = Path(text)
    if p.suffix == ".json":
        return p, p.parent
    return p / MODEL_FILE, p


def _encode(values: np.ndarray, dtype: str) -> bytes:
    if dtype not in _DTYPES:
        raise ValueError(
            f"Cannot save a weight of dtype {dtype!r}; expected one of {list(_DTYPES)}"
        )
    return np.ascontiguousarray(values, dtype=_DTYPES[dtype]).tobytes()


def _write_bytes(path: Path, data: bytes) -> None:
    """Write and flush to disk (a separate function so tests can make it fail)."""
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def save_model(model: Any, path: str | os.PathLike, include_optimizer: bool = False) -> dict:
    """Write model.json and weights.bin; a failure leaves any previous save untouched.

    Both files are written to temporary names in the target directory, flushed, and then
    moved into place with ``os.replace`` (weights first, model.json last, so model.json is
    the commit point).

    Args:
        model: a LayersModel.
        path: target directory (``file://`` prefix allowed) or a ``.json`` file path.
        include_optimizer: also write ``trainingConfig`` and the optimizer's weights.

    Returns:
        TF.js's ``modelArtifactsInfo``-like dict (byte sizes).

    Example:
        >>> save_model(model, 'file:///tmp/m')
    """
    json_path, directory = _paths(path)
    weights = model.weights
    seen: set[str] = set()
    specs, chunks = [], []
    for w in weights:
        if w.original_name in seen:
            raise ValueError(f"Duplicate weight name '{w.original_name}' in model {model.name}")
        seen.add(w.original_name)
        specs.append({"name": w.original_name, "shape": list(w.shape), "dtype": w.dtype})
        chunks.append(_encode(w.read().numpy(), w.dtype))
    artifacts: dict[str, Any] = {
        "modelTopology": model_topology(model),
        "format": FORMAT,
        "generatedBy": f"clflow v{_version()}",
        "convertedBy": None,
    }
    if include_optimizer and getattr(model, "optimizer", None) is not None:
        from . import training

        if not hasattr(training, "get_training_config"):
            raise NotImplementedError(
                "include_optimizer=True needs clflow.training.get_training_config(model) and "
                "get_optimizer_weights(model)"
            )
        artifacts["trainingConfig"] = training.get_training_config(model)
        for name, value in training.get_optimizer_weights(model):
            arr = np.asarray(value.numpy() if hasattr(value, "numpy") else value)
            dtype = "int32" if arr.dtype.kind in "iu" else "float32"
            specs.append(
                {"name": name, "shape": list(arr.shape), "dtype": dtype, "group": "optimizer"}
            )
            chunks.append(_encode(arr, dtype))
    data = b"".join(chunks)
    # Same keys and key order as tfjs-node's file:// handler, compact like JSON.stringify.
    document: dict[str, Any] = {
        "modelTopology": artifacts["modelTopology"],
        "weightsManifest": [{"paths": [WEIGHTS_FILE], "weights": specs}],
        "format": FORMAT,
        "generatedBy": artifacts["generatedBy"],
        "convertedBy": None,
    }
    if "trainingConfig" in artifacts:
        document["trainingConfig"] = artifacts["trainingConfig"]
    text = json.dumps(_jsify(document), separators=(",", ":")).encode("utf-8")

    directory.mkdir(parents=True, exist_ok=True)
    staged: list[tuple[Path, Path]] = []
    try:
        for final, payload in ((directory / WEIGHTS_FILE, data), (json_path, text)):
            fd, tmp = tempfile.mkstemp(prefix=f".{final.name}.", suffix=".tmp", dir=directory)
            os.close(fd)
            staged.append((Path(tmp), final))
            _write_bytes(Path(tmp), payload)
        for tmp, final in staged:
            os.replace(tmp, final)
    finally:
        for tmp, _ in staged:
            if tmp.exists():
                tmp.unlink()
    return {
        "modelTopologyType": "JSON",
        "modelTopologyBytes": len(json.dumps(artifacts["modelTopology"])),
        "weightSpecsBytes": len(json.dumps(specs)),
        "weightDataBytes": len(data),
    }


def _read_json(json_path: Path) -> dict[str, Any]:
    if not json_path.is_file():
        raise FileNotFoundError(
            f"No model.json at '{json_path}': expected a directory written by model.save() "
            "(or by TensorFlow.js), or the path of its model.json."
        )
    try:
        doc = json.loads(json_path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as e:
        raise ValueError(f"'{json_path}' is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or "modelTopology" not in doc:
        raise ValueError(
            f"'{json_path}' has no 'modelTopology': it is not a TensorFlow.js layers model."
        )
    fmt = doc.get("format")
    if fmt not in (None, FORMAT):
        raise ValueError(
            f"'{json_path}' has format {fmt!r}; only '{FORMAT}' models can be loaded "
            "(graph models come from the TF.js converter and hold no layers)."
        )
    return doc


def _decode(buffer: bytes, offset: int, spec: dict[str, Any], where: str) -> tuple[np.ndarray, int]:
    """One weight's array from the concatenated shard bytes."""
    shape = [int(d) for d in spec["shape"]]
    count = int(np.prod(shape))
    quant = spec.get("quantization")
    dtype = spec.get("dtype", "float32")
    if quant:
        qtype = quant.get("dtype")
        if qtype not in _QUANTIZED:
            raise ValueError(
                f"{where}: weight '{spec['name']}' has unsupported quantization {qtype!r}"
            )
        raw = np.frombuffer(buffer, _QUANTIZED[qtype], count, offset)
        nbytes = raw.nbytes
        if qtype == "float16":
            values = raw.astype(np.float32)
        else:
            values = raw.astype(np.float32) * quant["scale"] + quant["min"]
    else:
        if dtype not in _DTYPES:
            raise ValueError(f"{where}: weight '{spec['name']}' has unsupported dtype {dtype!r}")
        nbytes = count * np.dtype(_DTYPES[dtype]).itemsize
        values = np.frombuffer(buffer, _DTYPES[dtype], count, offset)
    values = values.astype({"float32": np.float32, "int32": np.int32, "bool": np.bool_}[dtype])
    return values.reshape(shape), offset + nbytes


def read_weights(doc: dict[str, Any], directory: Path) -> list[tuple[dict[str, Any], np.ndarray]]:
    """Every (spec, array) pair of the weights manifest, after checking the byte counts."""
    out = []
    for g, group in enumerate(doc.get("weightsManifest") or []):
        buffers = []
        for rel in group.get("paths", []):
            shard = directory / rel
            if not shard.is_file():
                raise FileNotFoundError(
                    f"Weight file '{shard}' listed in model.json (weightsManifest[{g}]) is missing."
                )
            buffers.append(shard.read_bytes())
        buffer = b"".join(buffers)
        expected = 0
        for spec in group.get("weights", []):
            quant = spec.get("quantization")
            item = np.dtype(
                _QUANTIZED[quant["dtype"]] if quant else _DTYPES.get(spec.get("dtype"), "<f4")
            ).itemsize
            expected += item * int(np.prod(spec["shape"]))
        names = ", ".join(group.get("paths", []))
        if len(buffer) != expected:
            raise ValueError(
                f"Weight data in {names} has {len(buffer)} bytes, but model.json's manifest "
                f"describes {expected} bytes ({len(group.get('weights', []))} weights): the file "
                "is truncated or does not belong to this model.json."
            )
        offset = 0
        for spec in group.get("weights", []):
            values, offset = _decode(buffer, offset, spec, names)
            out.append((spec, values))
    return out


def load_model(path: str | os.PathLike, strict: bool = True) -> Any:
    """Load a layers model written by ``save_model`` or by TensorFlow.js.

    Args:
        path: directory holding model.json, or the model.json path (``file://`` allowed).
        strict: require an exact match between the model's weights and the file's.

    Example:
        >>> model = load_model('/tmp/m')
    """
    from .layers import LAYER_CLASSES
    from .models import Sequential

    json_path, _ = _paths(path)
    doc = _read_json(json_path)
    topology = doc["modelTopology"]
    if "model_config" in topology:  # Keras (Python) h5-style wrapper
        topology = topology["model_config"]
    class_name = topology.get("class_name")
    if class_name != "Sequential":
        raise ValueError(
            f"'{json_path}' holds a {class_name!r} model; clflow loads 'Sequential' models."
        )
    pairs = read_weights(doc, json_path.parent)
    model = Sequential.from_config(topology.get("config", {}), LAYER_CLASSES)
    layer_pairs = [(s, v) for s, v in pairs if s.get("group") != "optimizer"]
    by_name = {w.original_name: w for w in model.weights}
    targets, values, unknown = [], [], []
    for spec, value in layer_pairs:
        weight = by_name.get(spec["name"])
        if weight is None:
            unknown.append(spec["name"])
            continue
        targets.append(weight)
        values.append(value)
    if strict and unknown:
        raise ValueError(f"Provided weight data has no target variable: {', '.join(unknown)}")
    missing = [w.original_name for w in model.weights if all(w is not t for t in targets)]
    if strict and missing:
        raise ValueError(
            f"{len(missing)} of {len(model.weights)} weights are not set: {', '.join(missing)}"
        )
    _assign(targets, values)
    training_config = doc.get("trainingConfig")
    model.loaded_training_config = training_config
    if training_config is not None:
        optimizer_pairs = [(s["name"], v) for s, v in pairs if s.get("group") == "optimizer"]
        try:
            from . import training
        except ImportError:
            training = None
        if training is not None and hasattr(training, "load_training_config"):
            training.load_training_config(model, training_config, optimizer_pairs)
    return model


def _assign(targets: Sequence[Any], values: Sequence[np.ndarray]) -> None:
    """Check every shape first, then assign (no partial update)."""
    for w, v in zip(targets, values, strict=True):
        if list(v.shape) != list(w.shape):
            raise ValueError(
                f"Weight '{w.original_name}' has shape {list(w.shape)} in the model but "
                f"{list(v.shape)} in the weights file."
            )
    for w, v in zip(targets, values, strict=True):
        w.write(tf.tensor(v, list(v.shape), w.dtype))

"""The numpy interpreter of the IR: the reference semantics every device result is tested by."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .ir import Graph, IRError, line_of
from .ops import OPS


def interpret(
    graph: Graph, inputs: Sequence[np.ndarray], precision: str = "float32"
) -> list[np.ndarray]:
    """Evaluate ``graph`` on host arrays. ``precision='float64'`` computes floats in float64."""
    if len(inputs) != len(graph.inputs):
        raise IRError(f"graph takes {len(graph.inputs)} inputs, got {len(inputs)}")
    ftype = np.float64 if precision == "float64" else np.float32
    types = {"float32": ftype, "int32": np.int32, "bool": np.bool_}
    env: dict[int, np.ndarray] = {}
    for node, value in zip(graph.inputs, inputs, strict=True):
        arr = np.asarray(value)
        if tuple(arr.shape) != node.shape:
            raise IRError(
                f"input {node.name or node.attrs.get('index')}: expected shape "
                f"{list(node.shape)}, got {list(arr.shape)}"
            )
        env[id(node)] = arr.astype(types[node.dtype])
    names: dict[int, str] = {}
    for node in graph.nodes:
        if id(node) in env:
            continue
        if node.op == "const":
            env[id(node)] = np.array(node.attrs["value"], dtype=types[node.dtype])
            continue
        ref = OPS[node.op].ref
        args = [env[id(i)] for i in node.inputs]
        try:
            with np.errstate(all="ignore"):
                out = np.asarray(ref(*args, **node.attrs))
        except Exception as e:  # an op's reference failing is a compiler bug: name the node
            raise IRError(f"interpreting {line_of(node, names)} failed: {e}") from e
        env[id(node)] = out.astype(types[node.dtype]).reshape(node.shape)
    return [env[id(o)] for o in graph.outputs]

"""The Optimizer base: minimize() as one compiled step (forward + backward + update).

A subclass only states its slots and its update formula with tensor ops (``update``). The
first ``minimize`` of a given structure traces f, differentiates the graph, appends the updates
and compiles it all into one executable; later steps with the same structure look it up by key
and just run it: no autodiff, no compile, no program build.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from . import engine
from .compiler.autodiff import gradients
from .compiler.ir import Graph, Node, toposort
from .gradients import NO_CONNECTION, _check_scalar, trace
from .tensor import Tensor, buffer_tensor, tensor, wrap
from .variables import Variable


def _hyper_leaf(value: float) -> Node:
    return tensor(np.float32(value)).node


class Optimizer:
    """Base class of ``tf.train`` optimizers (TF.js's ``tf.train.Optimizer``)."""

    slot_names: tuple[str, ...] = ()

    def __init__(self, learning_rate: float) -> None:
        self.learning_rate = float(learning_rate)
        self.iterations = 0
        self._slots: dict[str, dict[str, Variable]] = {}  # var name -> slot name -> value

    # -- what subclasses define ---------------------------------------------------------------
    def init_slot(self, slot: str, var: Tensor) -> float:
        """Initial value of ``slot`` for ``var`` (a number filled over the var's shape)."""
        return 0.0

    def config_key(self) -> tuple:
        """Hyperparameters baked into the compiled step (the learning rate is an input)."""
        return (type(self).__name__,)

    def update(
        self, var: Tensor, grad: Tensor, slots: dict[str, Tensor], lr: Tensor, t: Tensor
    ) -> tuple[Tensor, dict[str, Tensor]]:
        """New value of ``var`` and of its slots, as tensor ops. ``t`` is the step (1, 2, ...)."""
        raise NotImplementedError

    def get_config(self) -> dict:
        return {"learningRate": self.learning_rate}

    def _lr_leaf(self) -> Node:
        """The learning rate on the device, uploaded again only when it changes."""
        cached = getattr(self, "_lr_cache", None)
        if cached is None or cached[0] != self.learning_rate:
            cached = self._lr_cache = (self.learning_rate, _hyper_leaf(self.learning_rate))
        return cached[1]

    # -- state ------------------------------------------------------------------------------
    def set_learning_rate(self, learning_rate: float) -> None:
        """Change the learning rate (no recompilation: it is an input of the step)."""
        self.learning_rate = float(learning_rate)

    def _slots_of(self, var: Variable) -> list[Variable]:
        have = self._slots.get(var.name)
        if have is None:
            from .ops import fill

            have = {}
            for s in self.slot_names:
                have[s] = Variable(
                    fill(var.shape, self.init_slot(s, var)),
                    trainable=False,
                    name=f"{var.name}/{s}__{id(self)}",
                )
            self._slots[var.name] = have
        return [have[s] for s in self.slot_names]

    def get_weights(self) -> list[dict]:
        """``[{'name': 'iter', ...}, {'name': 'a/m', ...}, {'name': 'b/m', ...}, {'name': 'a/v',
        ...}, ...]``: slot by slot, then variable by variable, in TF.js's order."""
        out = [{"name": "iter", "tensor": tensor(np.int32(self.iterations))}]
        for s in self.slot_names:
            for vname, slots in self._slots.items():
                out.append({"name": f"{vname}/{s}", "tensor": wrap(slots[s].node)})
        return out

    def set_weights(self, weights: Sequence[dict]) -> None:
        """Restore state saved by ``get_weights`` (slot shapes are checked)."""
        for w in weights:
            name, t = w["name"], w["tensor"]
            t = t if isinstance(t, Tensor) else tensor(t)
            if name == "iter":
                self.iterations = int(t.numpy())
                continue
            vname, _, s = name.rpartition("/")
            if s not in self.slot_names:
                raise ValueError(
                    f"unknown optimizer weight {name!r}; slots are {list(self.slot_names)}"
                )
            from . import variables

            var = variables._registry.get(vname)
            slots = self._slots.get(vname)
            if slots is None:
                if var is None:
                    raise ValueError(f"optimizer weight {name!r} names no known variable")
                self._slots_of(var)
                slots = self._slots[vname]
            slots[s].assign(t)

    def dispose(self) -> None:
        for slots in self._slots.values():
            for v in slots.values():
                v.dispose()
        self._slots.clear()

    # -- training -------------------------------------------------------------------------
    def compute_gradients(self, f: Callable[[], Tensor], var_list: Sequence | None = None) -> dict:
        """``{'value': loss, 'grads': {name: grad}}`` without updating anything."""
        from .gradients import variable_grads

        return variable_grads(f, var_list)

    def apply_gradients(self, variable_gradients: dict | Sequence) -> None:
        """Apply ``{var_name: grad}`` (or ``[{'name', 'tensor'}]``) with this optimizer's rule."""
        from . import variables

        items = (
            list(variable_gradients.items())
            if isinstance(variable_gradients, dict)
            else [(d["name"], d["tensor"]) for d in variable_gradients]
        )
        pairs = []
        for name, g in items:
            var = variables._registry.get(name)
            if var is None:
                raise ValueError(f"apply_gradients: no variable named {name!r}")
            g = g if isinstance(g, Tensor) else tensor(g)
            if g.shape != var.shape:
                raise ValueError(
                    f"gradient for {name} has shape {g.shape}, the variable {var.shape}"
                )
            pairs.append((var, g))
        self.iterations += 1
        lr, t = wrap(_hyper_leaf(self.learning_rate)), wrap(_hyper_leaf(self.iterations))
        results = []
        for var, g in pairs:
            slots = self._slots_of(var)
            new, new_slots = self.update(
                wrap(var.node),
                g,
                {s: wrap(v.node) for s, v in zip(self.slot_names, slots, strict=True)},
                lr,
                t,
            )
            results.append(
                (var, new, [(v, new_slots[s]) for s, v in zip(self.slot_names, slots, strict=True)])
            )
        nodes = [r[1].node for r in results] + [ns.node for r in results for _, ns in r[2]]
        engine.realize(nodes)
        for var, new, slot_pairs in results:
            var._set_buffer(new.node.data)
            for v, ns in slot_pairs:
                v._set_buffer(ns.node.data)

    def minimize(
        self,
        f: Callable[[], Any],
        return_cost: bool = False,
        var_list: Sequence[Variable] | None = None,
    ) -> Tensor | None:
        """Run one step minimising ``f()`` (a scalar) over ``var_list`` (default: every
        trainable variable f uses). Returns the cost (before the update) if asked.

        Example:
            >>> opt = tf.train.sgd(0.1)
            >>> opt.minimize(lambda: model(xs).sub(ys).square().mean())
        """
        outs = self.minimize_with_outputs(f, var_list)
        return outs[0] if return_cost else None

    def minimize_with_outputs(self, f: Callable[[], Any], var_list=None) -> list[Tensor]:
        """One step; ``f`` may return ``(loss, [extra tensors])``: all come from one run."""
        heads, leaves, runner = self._trace_step(f, var_list)
        vars_ = [leaves[i].var for i in runner.updated]
        return self._run_step(runner, heads, [lf.data for lf in leaves], vars_)

    def _trace_step(self, f: Callable[[], Any], var_list) -> tuple[list[Node], list[Node], Any]:
        """Trace ``f`` and find (compiling on a miss) the step for its structure."""
        result = trace(f)
        loss, extras = result if isinstance(result, tuple) else (result, [])
        loss = _check_scalar(loss, "minimize")
        heads = [loss.node] + [e.node for e in extras]
        key, leaves = engine.structure(heads, _true_leaf)
        if var_list is None:
            wanted = [i for i, lf in enumerate(leaves) if lf.var is not None and lf.var.trainable]
        else:
            ids = {id(v) for v in var_list}
            for v in var_list:
                if not isinstance(v, Variable):
                    raise TypeError(f"var_list must hold Variables, got {type(v).__name__}")
            wanted = [i for i, lf in enumerate(leaves) if lf.var is not None and id(lf.var) in ids]
        step_key = ("step", key, tuple(wanted), self.config_key())
        runner = engine.lookup(step_key) or self._compile_step(step_key, heads, leaves, wanted)
        return heads, leaves, runner

    def _run_step(self, runner, heads: list[Node], leaf_data: list, vars_: list) -> list:
        """Run a compiled step on ``leaf_data``; ``vars_`` (the updated Variables) and their
        slots adopt the new buffers. Returns the heads' values."""
        slot_vars = [s for v in vars_ for s in self._slots_of(v)]
        inputs = [*leaf_data, *(s.node.data for s in slot_vars), self._lr_leaf().data]
        inputs.append(self._step_count_buffer(runner))
        outs = runner.run(inputs)
        engine.stats["runs"] += 1
        self.iterations += 1
        if runner.counts_steps:  # the step carried its count on the device: keep it there
            self._count = (self.iterations, outs.pop())
        n_heads = len(heads)
        for v, buf in zip(vars_ + slot_vars, outs[n_heads:], strict=True):
            v._set_buffer(buf)
        return [
            buffer_tensor(buf, node.shape, node.dtype)
            for node, buf in zip(heads, outs[:n_heads], strict=True)
        ]

    def _step_count_buffer(self, runner):
        """The steps taken so far, on the device (uploaded only when the host count moved)."""
        if not runner.counts_steps:  # the update rule does not read t: any scalar will do
            return self._lr_leaf().data
        count = getattr(self, "_count", None)
        if count is None or count[0] != self.iterations:
            self._count = (self.iterations, _hyper_leaf(self.iterations).data)
        return self._count[1]

    def _compile_step(self, step_key, heads, leaves, wanted):
        graph = engine.build_graph(heads, leaves, _true_leaf, name="train_step")
        var_inputs = [graph.inputs[i] for i in wanted]
        grads = gradients(graph.outputs[0], var_inputs) if var_inputs else []
        updated = [i for i, g in zip(wanted, grads, strict=True) if g is not None]
        if not updated:
            raise ValueError(NO_CONNECTION)
        inputs = list(graph.inputs)

        def new_input(shape, dtype, name):
            x = Node("input", (), {"index": len(inputs), "role": "param"}, tuple(shape), dtype)
            x.name = name
            inputs.append(x)
            return x

        slot_inputs = []
        for i in updated:
            v = leaves[i].var
            for s in self.slot_names:
                slot_inputs.append(new_input(v.node.shape, "float32", f"{v.name}/{s}"))
        lr = wrap(new_input((), "float32", "lr"))
        done = new_input((), "float32", "iterations")  # steps before this one
        t = wrap(done) + 1.0
        new_vars, new_slots = [], []
        k = 0
        for i, g in zip(wanted, grads, strict=True):
            if g is None:
                continue
            slots = {s: wrap(slot_inputs[k + j]) for j, s in enumerate(self.slot_names)}
            k += len(self.slot_names)
            nv, ns = self.update(wrap(graph.inputs[i]), wrap(g), slots, lr, t)
            new_vars.append(nv.node)
            new_slots += [ns[s].node for s in self.slot_names]
        outputs = graph.outputs + new_vars + new_slots
        # Rules that read t (Adam, Adamax) return it too, so the next step reads it on the
        # device: one upload per step saved (~45 us on pocl).
        counts_steps = any(n is done for n in toposort(outputs, lambda n: n.op == "input"))
        if counts_steps:
            outputs.append(t.node)
        full = Graph(inputs, outputs, "train_step")
        runner = engine.get_runner(step_key, lambda: full)
        runner.updated = updated  # which leaves are the variables this step updates
        runner.counts_steps = counts_steps
        return runner


class ReplayStep:
    """``minimize_with_outputs(lambda: f(*feeds))`` that stops re-tracing ``f`` once it is stable.

    Tracing ``f`` re-records its ops and walks the graph for the cache key on every step:
    for a small model that costs far more than its kernels. When two consecutive traces for
    feeds of the same shapes reach the same compiled step from the same leaves (the same
    Variables, the same fixed tensors, each feed in the same place), the step is replayed from
    then on: only the feeds, the variables' current buffers and the learning rate are bound.
    ``f`` must depend only on its feeds, on Variables and on fixed tensors; anything it draws
    fresh on each call (a dropout mask, a new constant tensor) shows up as a new leaf, and such
    an ``f`` is simply traced every step.

    Example:
        >>> step = ReplayStep(opt, lambda idx: loss_of(x.gather(idx)), var_list)  # doctest: +SKIP
        >>> loss, = step(idx)  # doctest: +SKIP
    """

    def __init__(self, optimizer: Optimizer, f: Callable[..., Any], var_list=None) -> None:
        self.optimizer, self.f = optimizer, f
        # A list, or a function giving the list at each step (a layer frozen mid-training).
        self.var_list = var_list
        self._plans: dict[tuple, tuple] = {}  # feeds, vars -> (replayable, runner, heads, src)

    def __call__(self, *feeds: Tensor | None) -> list[Tensor]:
        engine.realize([t.node for t in feeds if t is not None])
        var_list = self.var_list() if callable(self.var_list) else self.var_list
        sig = tuple(None if t is None else (t.node.shape, t.node.dtype) for t in feeds)
        if var_list is not None:
            sig += tuple(map(id, var_list))
        plan = self._plans.get(sig)
        opt = self.optimizer
        if plan is not None and plan[0]:
            _, runner, heads, sources, vars_ = plan
            data = [feeds[s].node.data if type(s) is int else s.node.data for s in sources]
            return opt._run_step(runner, heads, data, vars_)
        heads, leaves, runner = opt._trace_step(lambda: self.f(*feeds), var_list)
        sources = _sources(leaves, feeds)
        stable = plan is not None and plan[1] is runner and _same(plan[3], sources)
        vars_ = [leaves[i].var for i in runner.updated]
        self._plans[sig] = (stable, runner, heads, sources, vars_)
        return opt._run_step(runner, heads, [lf.data for lf in leaves], vars_)


class _Fixed:
    """A leaf that is the same tensor on every step (with ``.node`` like a Variable)."""

    __slots__ = ("node",)

    def __init__(self, node: Node) -> None:
        self.node = node


def _sources(leaves: Sequence[Node], feeds: Sequence[Tensor]) -> list:
    """Where each leaf comes from: a feed index, a Variable (its current value) or _Fixed."""
    feed_at = {id(t.node): j for j, t in enumerate(feeds) if t is not None}
    out: list = []
    for lf in leaves:
        if id(lf) in feed_at:
            out.append(feed_at[id(lf)])
        elif lf.var is not None and lf.var.node is lf:
            out.append(lf.var)
        else:
            out.append(_Fixed(lf))
    return out


def _same(a: Sequence, b: Sequence) -> bool:
    """Two traces' leaf sources agree (same feed slots, Variables and fixed nodes)."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        if isinstance(x, _Fixed):
            if not isinstance(y, _Fixed) or x.node is not y.node:
                return False
        elif type(x) is int:  # a feed's index
            if type(y) is not int or x != y:
                return False
        elif x is not y:  # the same Variable object
            return False
    return True


def _true_leaf(n: Node) -> bool:
    return not n.inputs and n.op != "const"

"""tf.callbacks: hook dicts, Callback subclasses, History, early stopping, stop_training."""

from __future__ import annotations

import clflow as tf
import numpy as np
import pytest
from clflow import callbacks


def small_model():
    m = tf.sequential({"layers": [tf.layers.dense({"inputShape": [4], "units": 3,
                                                   "activation": "softmax"})]})  # fmt: skip
    rng = np.random.default_rng(0)
    m.set_weights([rng.normal(size=(4, 3)).astype(np.float32), np.zeros(3, np.float32)])
    m.compile({"optimizer": tf.train.sgd(0.1), "loss": "categoricalCrossentropy",
               "metrics": ["accuracy"]})  # fmt: skip
    return m


def data(n=20):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 4)).astype(np.float32)
    return x, np.eye(3, dtype=np.float32)[rng.integers(0, 3, n)]


class Scripted(callbacks.Callback):
    """Overwrites logs[key] with a scripted sequence and snapshots the weights at epoch end."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values, self.snapshots = key, values, []

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]
        self.snapshots.append([w.numpy() for w in self.model.weights])


def test_early_stopping_patience_and_restore_best_weights():
    x, y = data()
    m = small_model()
    script = Scripted("val_loss", [1.0, 0.5, 0.6, 0.7, 0.4, 0.3])
    stop = tf.callbacks.early_stopping(monitor="val_loss", patience=2, restore_best_weights=True)
    h = m.fit(x, y, epochs=6, batch_size=5, validation_split=0.25, verbose=0,
              callbacks=[script, stop])  # fmt: skip
    assert h.epoch == [0, 1, 2, 3]  # best at 1, no improvement at 2 and 3 -> stop
    assert stop.stopped_epoch == 3 and stop.best == 0.5 and stop.best_epoch == 1
    for got, want in zip(m.weights, script.snapshots[1], strict=True):
        np.testing.assert_array_equal(got.numpy(), want)
    assert not np.allclose(script.snapshots[1][0], script.snapshots[3][0])


def test_early_stopping_min_delta_mode_and_baseline():
    x, y = data()
    m = small_model()
    script = Scripted("acc", [0.5, 0.52, 0.53, 0.9])
    stop = callbacks.EarlyStopping(monitor="acc", min_delta=0.05, patience=1)
    assert stop.mode == "max"
    h = m.fit(x, y, epochs=4, verbose=0, callbacks=[script, stop])
    assert h.epoch == [0, 1]  # +0.02 is below min_delta
    m = small_model()
    base = callbacks.early_stopping(monitor="loss", baseline=-1.0, patience=0)
    assert len(m.fit(x, y, epochs=5, verbose=0, callbacks=base).epoch) == 1
    with pytest.raises(ValueError, match="mode must be 'auto', 'min' or 'max'"):
        callbacks.early_stopping(mode="up")


def test_stop_training_stops_after_the_current_batch():
    x, y = data()
    m = small_model()
    seen = []

    def on_batch_end(batch, logs):
        seen.append(batch)
        if batch == 1:
            m.stop_training = True

    h = m.fit(x, y, epochs=3, batch_size=4, verbose=0, validation_split=0.2,
              callbacks={"onBatchEnd": on_batch_end})  # fmt: skip
    assert seen == [0, 1] and h.epoch == [0]
    assert "val_loss" not in h.history  # validation runs only after a complete epoch


def test_terminate_on_nan():
    x, y = data()
    x[9] = np.nan
    m = small_model()
    seen = []
    h = m.fit(x, y, epochs=3, batch_size=5, shuffle=False, verbose=0,
              callbacks=[tf.callbacks.terminate_on_nan(),
                         {"on_batch_end": lambda b, logs: seen.append(b)}])  # fmt: skip
    assert seen == [0, 1] and h.epoch == [0] and np.isnan(h.history["loss"][0])


def test_subclass_hooks_in_both_spellings_and_mixed_lists():
    order = []

    class Camel(callbacks.Callback):
        def onEpochEnd(self, epoch, logs=None):  # noqa: N802 - TF.js spelling on purpose
            order.append(("camel", epoch, sorted(logs), self.params["epochs"]))

    class Snake(callbacks.Callback):
        def on_train_begin(self, logs=None):
            order.append(("snake", self.model is m))

    x, y = data()
    m = small_model()
    m.fit(
        x,
        y,
        epochs=2,
        verbose=0,
        callbacks=[Camel(), Snake(), {"on_train_end": lambda logs: order.append("end")}],
    )
    assert order == [("snake", True), ("camel", 0, ["acc", "loss"], 2),
                     ("camel", 1, ["acc", "loss"], 2), "end"]  # fmt: skip


def test_batch_logs_are_read_only_when_a_callback_wants_them():
    m = small_model()
    only_epochs = callbacks.CallbackList([{"on_epoch_end": print}, callbacks.History()], m, {})
    assert not only_epochs.needs_batch_logs

    class Batches(callbacks.Callback):
        def on_batch_end(self, batch, logs=None):
            pass

    assert callbacks.CallbackList([Batches()], m, {}).needs_batch_logs
    assert callbacks.CallbackList([callbacks.terminate_on_nan()], m, {}).needs_batch_logs


def test_bad_callbacks_raise():
    x, y = data()
    m = small_model()
    with pytest.raises(TypeError, match=r"unknown option 'onBatchEn'; did you mean 'onBatchEnd'"):
        m.fit(x, y, verbose=0, callbacks={"onBatchEn": print})
    with pytest.raises(TypeError, match="must be a function"):
        m.fit(x, y, verbose=0, callbacks={"on_batch_end": 3})
    with pytest.raises(TypeError, match="each callback must be a Callback or a dict"):
        m.fit(x, y, verbose=0, callbacks=[print])


def test_verbose_levels(capsys):
    x, y = data()
    m = small_model()
    m.fit(x, y, epochs=2, verbose=2)
    out = capsys.readouterr().out.splitlines()
    assert len(out) == 2 and out[0].startswith("Epoch 1/2 - ") and " - loss: " in out[0]
    m.fit(x, y, epochs=1, verbose=1, batch_size=5)
    err = capsys.readouterr().err
    assert "Epoch 1/1" in err and "4/4" in err and "acc: " in err
    m.fit(x, y, epochs=1, verbose=0)
    assert capsys.readouterr() == ("", "")

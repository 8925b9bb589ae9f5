"""Session set-up: say which OpenCL device the tests run on."""

from __future__ import annotations


def pytest_report_header(config):
    try:
        import clflow as tf

        d = tf.engine.device()
        return [
            f"clflow OpenCL device: {d.platform_name}: {d.name} ({d.kind}, "
            f"driver {d.driver_version})"
        ]
    except Exception as e:  # the header must never hide the real failure
        return [f"clflow OpenCL device: unavailable ({e})"]

"""Session set-up: say which OpenCL device the tests run on (also under ``-q``)."""

from __future__ import annotations

import pytest


def _device_line() -> str:
    try:
        import clflow as tf

        d = tf.engine.device()
        return (
            f"clflow OpenCL device: {d.platform_name}: {d.name} ({d.kind}, "
            f"driver {d.driver_version})"
        )
    except Exception as e:  # the line must never hide the real failure
        return f"clflow OpenCL device: unavailable ({e})"


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session):
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.write_line(_device_line())

"""Fixtures for the runtime tests: the default OpenCL device and a private cache dir."""

import pytest
from clflow.runtime import get_device


@pytest.fixture
def device():
    """The default device, with every earlier test's work finished."""
    dev = get_device()
    dev.finish()
    return dev


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """Point CLFLOW_CACHE_DIR at a fresh temporary folder."""
    monkeypatch.setenv("CLFLOW_CACHE_DIR", str(tmp_path))
    return tmp_path

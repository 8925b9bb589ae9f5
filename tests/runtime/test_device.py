"""Device choice by argument and environment, and the device table."""

import pyopencl as cl
import pytest
from clflow.runtime import (
    all_devices,
    default_device,
    describe_devices,
    get_device,
    select_cl_device,
)
from clflow.runtime import device as devmod


@pytest.fixture(autouse=True)
def clean_env(monkeypatch):
    monkeypatch.delenv("CLFLOW_DEVICE", raising=False)
    monkeypatch.delenv("PYOPENCL_CTX", raising=False)


def first():
    return all_devices()[0][2]


def test_default_prefers_gpu_then_cpu():
    devs = [d for _, _, d in all_devices()]
    gpus = [d for d in devs if d.type & cl.device_type.GPU]
    cpus = [d for d in devs if d.type & cl.device_type.CPU]
    assert select_cl_device() == (gpus or cpus)[0]


@pytest.mark.parametrize("spec", ["0:0", "0", "0:", ":0", "cpu", "CPU"])
def test_spec_forms_pick_a_device(spec):
    dev = select_cl_device(spec)
    if spec.lower() == "cpu":
        assert dev.type & cl.device_type.CPU
    else:
        assert dev == first()


def test_name_substring_is_case_insensitive():
    dev = first()
    word = dev.name.strip().split()[0]
    assert select_cl_device(word.upper()) == dev
    assert select_cl_device(dev.platform.name[:6].lower()) == dev


def test_pocl_spec():
    pocl = [d for _, _, d in all_devices() if "pocl" in d.platform.version.lower()]
    if not pocl:
        pytest.skip("no pocl platform")
    assert select_cl_device("pocl") == pocl[0]


def test_env_order(monkeypatch):
    monkeypatch.setenv("PYOPENCL_CTX", "0:0")
    assert select_cl_device() == first()
    monkeypatch.setenv("CLFLOW_DEVICE", "no-such-device-xyz")
    with pytest.raises(ValueError, match=r"CLFLOW_DEVICE"):
        select_cl_device()
    # An explicit argument wins over the environment.
    assert select_cl_device("0:0") == first()


def test_bad_pyopencl_ctx_names_the_variable(monkeypatch):
    monkeypatch.setenv("PYOPENCL_CTX", "7:3")
    with pytest.raises(ValueError, match=r"PYOPENCL_CTX"):
        select_cl_device()


def test_bad_spec_lists_available_devices():
    with pytest.raises(ValueError) as info:
        select_cl_device("no-such-device-xyz")
    msg = str(info.value)
    assert "'no-such-device-xyz'" in msg
    assert first().name.strip() in msg
    assert "0:0" in msg


def test_gpu_spec_without_gpu_is_an_error():
    if any(d.type & cl.device_type.GPU for _, _, d in all_devices()):
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="'gpu'"):
        select_cl_device("gpu")


class FakeDevice:
    def __init__(self, name, platform, type_=cl.device_type.CPU):
        self.name, self.platform, self.type = name, platform, type_


class FakePlatform:
    def __init__(self, name, version, devices):
        self.name, self.version = name, version
        self._devices = [FakeDevice(n, self, t) for n, t in devices]

    def get_devices(self):
        return self._devices


def test_order_is_stable_whatever_the_loader_order(monkeypatch):
    gpu = cl.device_type.GPU
    a = FakePlatform("Zeta", "OpenCL 3.0", [("z2", gpu), ("z1", gpu)])
    b = FakePlatform("Portable Computing Language", "OpenCL 3.0 PoCL 5", [("cpu0", 2)])
    c = FakePlatform("Portable Computing Language", "OpenCL 3.0 PoCL 3", [("cpu0", 2)])
    listings = []
    for order in ([a, b, c], [c, a, b], [b, c, a]):
        monkeypatch.setattr(devmod.cl, "get_platforms", lambda order=order: order)
        listings.append([(p, d, dv.platform.version, dv.name) for p, d, dv in all_devices()])
        assert select_cl_device().name == "z1"  # first GPU, sorted by name
        assert select_cl_device("pocl").platform is c  # version "...PoCL 3" sorts first
        assert select_cl_device("2:1").name == "z2"
        assert select_cl_device("zeta:z2").name == "z2"
    assert listings[0] == listings[1] == listings[2]
    assert [x[:2] for x in listings[0]] == [(0, 0), (1, 0), (2, 0), (2, 1)]


def test_describe_devices_marks_the_choice():
    text = describe_devices()
    lines = text.splitlines()
    assert "global mem" in lines[0] and "max alloc" in lines[0] and "driver" in lines[0]
    chosen = select_cl_device()
    marked = [ln for ln in lines[1:] if ln.startswith("*")]
    assert len(marked) == 1
    assert chosen.name.strip() in marked[0]
    assert chosen.driver_version.strip() in marked[0]
    assert str(chosen.max_compute_units) in marked[0]
    assert len(lines) == 1 + len(all_devices())
    assert not [ln for ln in describe_devices("no-such-xyz").splitlines() if ln.startswith("*")]


def test_get_device_caches_and_describes():
    dev = get_device()
    assert get_device() is dev and default_device() is dev
    assert dev.kind in ("gpu", "cpu", "accelerator")
    assert dev.cl_device == select_cl_device()
    assert dev.name == dev.cl_device.name.strip()
    assert dev.max_alloc_bytes == dev.cl_device.max_mem_alloc_size
    assert dev.is_pocl == ("pocl" in dev.cl_device.platform.version.lower())
    assert dev.driver_version and dev.platform_name

"""System metrics while a tracked run trains (``system/cpu_percent``, ``system/memory_percent``, and per
visible GPU ``system/gpu{i}/...``), sampled every ``GEMINI_SYSTEM_METRICS_INTERVAL`` seconds into the
run's own metric buffer; and a training that goes on when the registry cannot be reached at its start."""

import collections
import logging
import sys
import threading
import time
import types

import pydantic
import pytest

from gemini.api.model_run import ModelRun
from gemini.config import get_settings
from gemini.tracking import lifecycle, starting
from gemini.tracking import system_metrics as sm
from tests.conftest import server_database
from tests.tracking.conftest import wait_until

INTERVAL = 0.05
SYSTEM_KEYS = {sm.CPU_PERCENT, sm.MEMORY_PERCENT}


@pytest.fixture
def db(registry_url, monkeypatch) -> str:
    """Every registry mode (SQLite, PostgreSQL, a real ``gemini serve``), sampling every ``INTERVAL`` s."""
    monkeypatch.setenv("GEMINI_SYSTEM_METRICS_INTERVAL", str(INTERVAL))
    return registry_url


@pytest.fixture
def no_gpu_library(monkeypatch):
    """``import pynvml`` fails, as on this machine: whatever is installed, no GPU is sampled."""
    monkeypatch.setitem(sys.modules, "pynvml", None)


def system_keys(run) -> set[str]:
    return {key for key in run.get_metrics() if key.startswith("system/")}


# -- on a tracked run -----------------------------------------------------------------------------


def test_a_tracked_run_records_the_machine_it_trains_on(db, no_gpu_library):
    with ModelRun.track(model_run_info={"lr": 0.1}, model_name="detector") as run:
        sampler = lifecycle.system_metrics_of(run)
        assert sampler is not None and sampler.seconds == INTERVAL
        for step in range(5):
            run.log_metrics({"loss": 1.0 / (step + 1)}, step=step)
        assert wait_until(lambda: sampler.samples >= 3)
    assert run.status == "finished" and run.error_type is None
    metrics = run.get_metrics()
    assert SYSTEM_KEYS <= set(metrics) and metrics["loss"]["count"] == 5
    memory = run.get_metric_history(sm.MEMORY_PERCENT)
    # The step of a sample is its number; its timestamp places it beside the training's points.
    assert [point["step"] for point in memory] == list(range(len(memory)))
    assert all(0 < point["value"] < 100 for point in memory)
    cpu = run.get_metric_history(sm.CPU_PERCENT)
    assert {point["step"] for point in cpu} <= {point["step"] for point in memory}
    assert all(0 <= point["value"] <= 100 for point in cpu)


def test_samples_follow_the_interval_and_stop_when_the_run_ends(db, no_gpu_library):
    began = time.monotonic()
    with ModelRun.track(model_run_info={"lr": 0.2}) as run:
        sampler = lifecycle.system_metrics_of(run)
        assert wait_until(lambda: sampler.samples >= 4)
        time.sleep(5 * INTERVAL)
    elapsed = time.monotonic() - began
    assert not sampler.running and not sampler._thread.is_alive()
    assert lifecycle.system_metrics_of(run) is None
    count = run.get_metrics()[sm.MEMORY_PERCENT]["count"]
    # One sample an interval at most, the first one interval after the start.
    assert 4 <= count <= elapsed / INTERVAL + 1
    time.sleep(4 * INTERVAL)
    assert run.get_metrics()[sm.MEMORY_PERCENT]["count"] == count  # nothing after the end
    assert run.error_type is None  # no sample was left behind by the last write


def test_system_metrics_false_samples_nothing(db, no_gpu_library):
    with ModelRun.track(model_run_info={"lr": 0.3}, system_metrics=False) as run:
        assert lifecycle.system_metrics_of(run) is None
        run.log_metric("loss", 0.5, step=0)
        time.sleep(4 * INTERVAL)
    assert set(run.get_metrics()) == {"loss"}

    started = ModelRun.start(model_run_info={"lr": 0.3}, system_metrics=False)
    assert lifecycle.system_metrics_of(started) is None
    time.sleep(4 * INTERVAL)
    assert started.end().status == "finished"
    assert started.get_metrics() == {}


def test_start_samples_too_and_end_stops_it(db, no_gpu_library):
    run = ModelRun.start(model_run_info={"lr": 0.4})
    sampler = lifecycle.system_metrics_of(run)
    assert wait_until(lambda: sampler.samples >= 2)
    assert run.end().status == "finished"
    assert not sampler.running
    assert system_keys(run) == SYSTEM_KEYS


def test_a_run_only_logged_to_is_not_sampled(db, no_gpu_library):
    run = ModelRun.create(model_run_info={"lr": 0.5})
    run.log_metric("loss", 1.0, step=0)  # a run this process did not start: no heartbeat, no sampler
    assert lifecycle.system_metrics_of(run) is None
    assert run.flush()


# -- the setting -----------------------------------------------------------------------------------


def test_the_interval_defaults_to_15_seconds_and_must_be_positive(monkeypatch):
    monkeypatch.delenv("GEMINI_SYSTEM_METRICS_INTERVAL", raising=False)
    assert get_settings().system_metrics_interval == 15.0
    monkeypatch.setenv("GEMINI_SYSTEM_METRICS_INTERVAL", "2.5")
    assert get_settings().system_metrics_interval == 2.5
    for wrong in ("0", "-1", "often"):
        monkeypatch.setenv("GEMINI_SYSTEM_METRICS_INTERVAL", wrong)
        with pytest.raises(pydantic.ValidationError, match="system_metrics_interval"):
            get_settings()


# -- the sampler alone -----------------------------------------------------------------------------


class CountingSource:
    def __init__(self) -> None:
        self.reads = 0
        self.closed = threading.Event()

    def read(self):
        self.reads += 1
        return [("system/test", float(self.reads))]

    def close(self):
        self.closed.set()


def test_the_sampler_hands_numbered_samples_to_log_and_closes_its_sources():
    source, logged = CountingSource(), []
    sampler = sm.SystemMetrics(
        lambda values, step: logged.append((step, values)), seconds=0.01, sources=lambda: [source]
    )
    assert wait_until(lambda: len(logged) >= 5)
    sampler.stop()
    assert source.closed.wait(5)
    after_stop = len(logged)
    assert [step for step, _ in logged] == list(range(after_stop)) and sampler.samples == after_stop
    assert logged[0] == (0, [("system/test", 1.0)])
    time.sleep(0.05)
    assert len(logged) == after_stop


def test_a_machine_with_nothing_to_read_gets_no_thread_loop():
    logged = []
    sampler = sm.SystemMetrics(lambda values, step: logged.append(values), seconds=0.01, sources=lambda: [])
    sampler._thread.join(5)
    assert not sampler._thread.is_alive() and logged == []


def test_a_failing_source_leaves_the_others():
    class Broken:
        def read(self):
            raise OSError("gone")

        def close(self):
            pass

    source, logged = CountingSource(), []
    sampler = sm.SystemMetrics(
        lambda values, step: logged.append(values), seconds=0.01, sources=lambda: [Broken(), source]
    )
    assert wait_until(lambda: len(logged) >= 2)
    sampler.stop()
    assert all(values == [("system/test", float(index + 1))] for index, values in enumerate(logged))


# -- CPU and memory: /proc, psutil, nothing -----------------------------------------------------------


def write_proc(root, *, user: int, idle: int, iowait: int = 0, guest: int = 0, total_kb=1000, available_kb=250):
    root.mkdir(exist_ok=True)
    # user nice system idle iowait irq softirq steal guest guest_nice
    (root / "stat").write_text(f"cpu  {user} 0 0 {idle} {iowait} 0 0 0 {guest} 0\ncpu0 1 2 3 4 5 6 7 8 9 10\n")
    (root / "meminfo").write_text(
        f"MemTotal:       {total_kb} kB\nMemFree:          10 kB\nMemAvailable:   {available_kb} kB\n"
    )


def test_cpu_and_memory_from_proc(tmp_path):
    proc = tmp_path / "proc"
    write_proc(proc, user=100, idle=100, guest=50)
    assert sm.proc_cpu_times(proc) == (100.0, 200.0)  # guest time is inside user time already
    assert sm.proc_memory_percent(proc) == 75.0
    source = sm.open_machine_source(proc)
    write_proc(proc, user=130, idle=150, iowait=20, available_kb=500)
    # 30 busy ticks of 100; I/O wait is not busy.
    assert source.read() == [(sm.CPU_PERCENT, 30.0), (sm.MEMORY_PERCENT, 50.0)]
    assert source.read() == [(sm.MEMORY_PERCENT, 50.0)]  # no tick went by: no CPU figure


def test_psutil_when_there_is_no_proc(tmp_path, monkeypatch):
    cpu_times = collections.namedtuple("scputimes", "user nice system idle")  # psutil's fields on macOS
    times = types.SimpleNamespace(value=(10.0, 0.0, 5.0, 85.0))
    fake = types.ModuleType("psutil")
    fake.cpu_times = lambda: cpu_times(*times.value)
    fake.virtual_memory = lambda: types.SimpleNamespace(percent=42.0)
    monkeypatch.setitem(sys.modules, "psutil", fake)
    source = sm.open_machine_source(tmp_path / "no-proc")
    times.value = (40.0, 0.0, 15.0, 145.0)  # 40 busy seconds of 100
    assert source.read() == [(sm.CPU_PERCENT, 40.0), (sm.MEMORY_PERCENT, 42.0)]


def test_no_proc_and_no_psutil_means_no_machine_figures(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "psutil", None)
    assert sm.open_machine_source(tmp_path / "no-proc") is None


# -- GPUs through NVML (a stand-in for pynvml) -----------------------------------------------------


class FakeNvml(types.ModuleType):
    """What the sampler uses of ``pynvml``, over a list of devices: ``{"uuid", "util", "used", "total",
    "power_mw"}`` (``power_mw`` ``None``: not supported, as on some boards)."""

    class NVMLError(Exception):
        pass

    def __init__(self, devices, *, driver: bool = True) -> None:
        super().__init__("pynvml")
        self.devices = devices
        self.driver = driver
        self.initialized = 0

    def nvmlInit(self):
        if not self.driver:
            raise self.NVMLError("Driver Not Loaded")
        self.initialized += 1

    def nvmlShutdown(self):
        self.initialized -= 1

    def nvmlDeviceGetCount(self):
        return len(self.devices)

    def nvmlDeviceGetHandleByIndex(self, index):
        if not 0 <= index < len(self.devices):
            raise self.NVMLError("Invalid Argument")
        return self.devices[index]

    def nvmlDeviceGetHandleByUUID(self, uuid):
        for device in self.devices:
            if device["uuid"] == uuid:
                return device
        raise self.NVMLError("Not Found")

    def nvmlDeviceGetUtilizationRates(self, handle):
        return types.SimpleNamespace(gpu=handle["util"], memory=0)

    def nvmlDeviceGetMemoryInfo(self, handle):
        return types.SimpleNamespace(used=handle["used"], total=handle["total"], free=handle["total"] - handle["used"])

    def nvmlDeviceGetPowerUsage(self, handle):
        if handle["power_mw"] is None:
            raise self.NVMLError("Not Supported")
        return handle["power_mw"]


DEVICES = [
    {"uuid": "GPU-aaaa", "util": 37, "used": 4 * 2**30, "total": 16 * 2**30, "power_mw": 123_456},
    {"uuid": "GPU-bbbb", "util": 90, "used": 12 * 2**30, "total": 16 * 2**30, "power_mw": None},
]


def gpu_values(index, util, memory, power=None):
    values = {sm.gpu_key(index, "utilization_percent"): util, sm.gpu_key(index, "memory_percent"): memory}
    if power is not None:
        values[sm.gpu_key(index, "power_watts")] = power
    return values


def test_each_visible_gpu_is_sampled(db, monkeypatch):
    nvml = FakeNvml(DEVICES)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    with ModelRun.track(model_run_info={"lr": 0.6}) as run:
        sampler = lifecycle.system_metrics_of(run)
        assert wait_until(lambda: sampler.samples >= 2)
        assert nvml.initialized == 1
    assert nvml.initialized == 0  # NVML shut down with the sampler
    last = {key: summary["last"] for key, summary in run.get_metrics().items() if "/gpu" in key}
    # The second board reports no power: its other figures are kept.
    assert last == {**gpu_values(0, 37.0, 25.0, 123.456), **gpu_values(1, 90.0, 75.0)}
    assert SYSTEM_KEYS <= system_keys(run)


def test_cuda_visible_devices_chooses_and_numbers_the_gpus(monkeypatch):
    nvml = FakeNvml(DEVICES)
    monkeypatch.setitem(sys.modules, "pynvml", nvml)
    for visible, expected in [
        ("1", gpu_values(0, 90.0, 75.0)),
        ("GPU-bbbb,0", {**gpu_values(0, 90.0, 75.0), **gpu_values(1, 37.0, 25.0, 123.456)}),
        ("0,7,1", gpu_values(0, 37.0, 25.0, 123.456)),  # CUDA stops at the first device it cannot use
    ]:
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", visible)
        source = sm.open_gpu_source()
        assert dict(source.read()) == expected, visible
        source.close()
    for nothing in ("", "-1", "MIG-xyz"):
        monkeypatch.setenv("CUDA_VISIBLE_DEVICES", nothing)
        assert sm.open_gpu_source() is None
    assert nvml.initialized == 0


def test_no_driver_or_no_library_means_no_gpu_figures_and_no_message(monkeypatch, caplog):
    caplog.set_level(logging.DEBUG)
    monkeypatch.delenv("CUDA_VISIBLE_DEVICES", raising=False)
    monkeypatch.setitem(sys.modules, "pynvml", FakeNvml(DEVICES, driver=False))
    assert sm.open_gpu_source() is None
    monkeypatch.setitem(sys.modules, "pynvml", None)
    assert sm.open_gpu_source() is None
    assert [source for source in sm.open_sources() if isinstance(source, sm.GpuSource)] == []
    assert [record for record in caplog.records if record.name.startswith("gemini")] == []


# -- a registry that cannot be reached at the start --------------------------------------------------


@pytest.fixture
def quick_start_retries(monkeypatch, no_gpu_library):
    monkeypatch.setattr(starting, "START_RETRY_SECONDS", 0.05)
    monkeypatch.setenv("GEMINI_SYSTEM_METRICS_INTERVAL", str(INTERVAL))


def test_a_server_down_at_the_start_does_not_stop_the_training(spooling_server, quick_start_retries, caplog):
    spooling_server.stop()
    with ModelRun.track(model_run_info={"lr": 0.7}, model_name="late") as run:
        assert run.id is None and run.status is None
        assert "the registry cannot be reached" in caplog.text
        for step in range(5):
            run.log_metrics({"loss": float(step)}, step=step)
        spooling_server.start()
        assert wait_until(lambda: run.id is not None)  # recorded once the server answers
        assert run.status == "running"
        for step in range(5, 10):
            run.log_metrics({"loss": float(step)}, step=step)
        sampler = lifecycle.system_metrics_of(run)
        assert wait_until(lambda: sampler.samples >= 2)
    assert run.status == "finished"
    stored = server_database().get_run(run_id=run.id)
    assert stored.status == "finished" and stored.error_type is None
    history = server_database().metric_history(run_id=run.id, key="loss").points()
    assert [point.step for point in history] == list(range(10))  # the points logged before it, too
    assert SYSTEM_KEYS <= set(server_database().metric_summaries(run_id=run.id))


def test_a_server_never_reached_leaves_the_training_alone(spooling_server, quick_start_retries, caplog):
    spooling_server.stop()
    trained = []
    with ModelRun.track(model_run_info={"lr": 0.8}) as run:
        heartbeat = lifecycle.heartbeat_of(run)
        for step in range(3):
            run.log_metrics({"loss": float(step)}, step=step)
            trained.append(step)
        assert run.flush() is False  # kept for a later try
    assert trained == [0, 1, 2]
    assert run.id is None and run.status is None
    assert "the run was never recorded" in caplog.text
    assert not heartbeat.running and lifecycle.deferred_start_of(run) is None


def test_start_hands_out_a_run_when_the_server_is_down(spooling_server, quick_start_retries):
    spooling_server.stop()
    run = ModelRun.start(model_run_info={"lr": 0.9})
    assert run is not None and run.id is None
    run.log_metric("loss", 1.0, step=0)
    spooling_server.start()
    assert wait_until(lambda: run.id is not None)
    assert run.end().status == "finished"
    assert server_database().metric_summaries(run_id=run.id)["loss"].count == 1


def test_a_start_the_registry_refuses_still_raises(db):
    from gemini.domain.errors import InvalidInputError

    with pytest.raises(InvalidInputError):
        with ModelRun.track(model_run_info="not a dict"):
            pass

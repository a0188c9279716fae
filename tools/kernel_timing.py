"""How tools/measure-kernels.py times kernels: the device's facts, CUDA-graph replays, events, the profiler's kernel
records, and the sizes that keep caches out of the figures."""
import math
import platform
import statistics
import time

import torch

MIB = 1 << 20


def device_facts():
    props = torch.cuda.get_device_properties(0)
    facts = {
        "name": props.name,
        "multiprocessors": props.multi_processor_count,
        "memory_bytes": props.total_memory,
        "torch": torch.__version__,
        "cuda": torch.version.cuda,
        "cudnn": torch.backends.cudnn.version(),
        "python": platform.python_version(),
    }
    try:
        import pynvml
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        facts["driver"] = pynvml.nvmlSystemGetDriverVersion()
        facts["power_limit_w"] = pynvml.nvmlDeviceGetEnforcedPowerLimit(handle) / 1000
        facts["max_sm_clock_mhz"] = pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_SM)
        facts["max_memory_clock_mhz"] = pynvml.nvmlDeviceGetMaxClockInfo(handle, pynvml.NVML_CLOCK_MEM)
    except Exception as error:  # NVML is optional: the timings stand without it
        facts["nvml_error"] = repr(error)
    return facts


def graph_time(step, launches, repeats=5):
    """Median seconds of one launch of step(i), timed as CUDA graph replays of `launches` launches."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        for i in range(3):
            step(i)
    torch.cuda.current_stream().wait_stream(stream)
    torch.cuda.synchronize()
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        for i in range(launches):
            step(i)
    graph.replay()
    torch.cuda.synchronize()
    times = []
    for _ in range(repeats):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        graph.replay()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000 / launches)
    del graph
    return statistics.median(times)


def event_time(step, least_seconds=0.05, repeats=5):
    """Median seconds of one step(), timed with CUDA events over enough calls to take least_seconds."""
    for _ in range(2):
        step()
    torch.cuda.synchronize()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    step()
    end.record()
    end.synchronize()
    once = max(start.elapsed_time(end) / 1000, 1e-6)
    calls = max(1, min(50, math.ceil(least_seconds / once)))
    times = []
    for _ in range(repeats):
        start.record()
        for _ in range(calls):
            step()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end) / 1000 / calls)
    return statistics.median(times)


def rotation(set_bytes, least_bytes=512 * MIB, most=64):
    """How many input sets to rotate through so that the working set overflows the L2 cache."""
    return max(1, min(most, math.ceil(least_bytes / max(set_bytes, 1))))


def launches_for(seconds_per_launch_guess, least_seconds=0.02, most=200):
    return max(1, min(most, math.ceil(least_seconds / max(seconds_per_launch_guess, 1e-7))))


def device_time(step, calls=10):
    """Seconds of GPU kernel time per step(), summed over the profiler's kernel records: no host gaps. Falls back to
    CUDA events around the calls (host gaps included) where the profiler records nothing; says which it used."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile
    for _ in range(2):
        step()
    torch.cuda.synchronize()
    try:
        with profile(activities=[ProfilerActivity.CUDA]) as trace:
            for _ in range(calls):
                step()
            torch.cuda.synchronize()
        total = sum(event.time_range.elapsed_us() for event in trace.events() if event.device_type == DeviceType.CUDA)
        if total > 0:
            return total / 1e6 / calls, "profiler device time"
    except Exception:
        pass
    return event_time(step), "CUDA events"


def wall_and_graph(layer, repeats=20):
    """Seconds per layer() as wall-clock over `repeats` eager calls with the device synchronized once at the end (what
    a step waits, the host's launches included), and as the device's own time (the layer replayed as a CUDA graph;
    None where it cannot be captured)."""
    for _ in range(3):
        layer()
    torch.cuda.synchronize()
    began = time.perf_counter()
    for _ in range(repeats):
        layer()
    torch.cuda.synchronize()
    wall = (time.perf_counter() - began) / repeats
    try:
        device = graph_time(lambda i: layer(), 5)
    except Exception:  # a layer that cannot be captured keeps its other timings
        device = None
        torch.cuda.synchronize()
    return wall, device


def kernel_times(step, calls=3):
    """Seconds per step() of each kernel name the profiler records on the device, summed over its launches."""
    from torch.autograd import DeviceType
    from torch.profiler import ProfilerActivity, profile
    step()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as trace:
        for _ in range(calls):
            step()
        torch.cuda.synchronize()
    times = {}
    for event in trace.events():
        if event.device_type == DeviceType.CUDA:
            times[event.name[:160]] = times.get(event.name[:160], 0.0) + event.time_range.elapsed_us() / 1e6 / calls
    return times


def is_multiply_kernel(name):
    """Whether a kernel name is a matrix multiply's: cuBLAS (nvjet, xmma, gemm) or CUTLASS (the grouped multiply)."""
    lowered = name.lower()
    return any(word in lowered for word in ("gemm", "nvjet", "xmma", "cutlass", "sm90_"))

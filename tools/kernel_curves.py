"""The kernels whose timings make a chip family's curves (tools/measure-kernels.py, docs/calibration.md "Measured curve
shapes"): matrix multiplies, fused attention and memory-bound kernels at many sizes, and the power they draw."""
import statistics
import threading
import time

import torch
import torch.nn.functional as F

from kernel_timing import MIB, device_time, graph_time, launches_for, rotation


def measure_matrix(shapes, dtype_name, fp8_fast_accumulation=None):
    rows = []
    fp8 = dtype_name == "fp8"
    for m, k, n, layout in shapes:
        element = 1 if fp8 else 2
        # Operands as the layout reads them; each set is (a, b, out).
        set_bytes = (m * k + k * n) * element + m * n * 2
        sets = rotation(set_bytes, most=8 if set_bytes > 256 * MIB else 32)
        try:
            operands = []
            for _ in range(sets):
                if fp8:
                    a = torch.randn(m, k, device="cuda").to(torch.float8_e4m3fn)
                    b = torch.randn(n, k, device="cuda").to(torch.float8_e4m3fn).t()  # column-major (k x n)
                else:
                    a = torch.randn(k, m, device="cuda", dtype=torch.bfloat16).t() if layout == "TN" else torch.randn(m, k, device="cuda", dtype=torch.bfloat16)
                    b = torch.randn(n, k, device="cuda", dtype=torch.bfloat16).t() if layout == "NT" else torch.randn(k, n, device="cuda", dtype=torch.bfloat16)
                out = torch.empty(m, n, device="cuda", dtype=torch.bfloat16)
                operands.append((a, b, out))
            one = torch.ones((), device="cuda", dtype=torch.float32)

            if fp8:
                def step(i):
                    a, b, out = operands[i % sets]
                    torch._scaled_mm(a, b, scale_a=one, scale_b=one, out_dtype=torch.bfloat16, use_fast_accum=fp8_fast_accumulation)
            else:
                def step(i):
                    a, b, out = operands[i % sets]
                    torch.mm(a, b, out=out)

            operations = 2.0 * m * k * n
            guess = operations / 5e14
            seconds = graph_time(step, launches_for(guess))
            rows.append({"m": m, "k": k, "n": n, "layout": layout, "precision": dtype_name,
                         "fast_accumulation": fp8_fast_accumulation, "operations": operations,
                         "bytes": (m * k + k * n) * element + m * n * 2, "seconds": seconds})
        except Exception as error:
            rows.append({"m": m, "k": k, "n": n, "layout": layout, "precision": dtype_name, "error": repr(error)[:300]})
        finally:
            operands = None
            torch.cuda.empty_cache()
    return rows


def attention_times(q, k, v, backend, causal):
    """Device seconds of one fused attention call's forward (with gradients enabled, so the kernel also keeps what the
    backward needs) and of its backward, through `backend`; grouped-query attention where k and v have fewer heads
    than q. Returns (forward, backward, how the forward was timed)."""
    from torch.nn.attention import sdpa_kernel
    grouped = {"enable_gqa": True} if k.shape[1] != q.shape[1] else {}
    with sdpa_kernel([backend]):
        forward, timing = device_time(lambda: F.scaled_dot_product_attention(q, k, v, is_causal=causal, **grouped))
        out = F.scaled_dot_product_attention(q, k, v, is_causal=causal, **grouped)
        grad = torch.randn_like(out)
        backward, _ = device_time(lambda: torch.autograd.grad(out, (q, k, v), grad, retain_graph=True))
    return forward, backward, timing


def measure_attention(shapes, backends, causal=True, key_value_heads=None, value_head=None):
    """Forward (with gradients enabled, so the kernel also keeps what the backward needs) and backward apart, each
    timed as the sum of its kernels' device time, so that the host's dispatch of small shapes does not count."""
    from torch.nn.attention import SDPBackend
    rows = []
    for backend_name in backends:
        for batch, heads, sequence, head in shapes:
            try:
                backend = getattr(SDPBackend, backend_name)
                groups = heads if key_value_heads is None else key_value_heads
                q = torch.randn(batch, heads, sequence, head, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                value = head if value_head is None else value_head
                k = torch.randn(batch, groups, sequence, head, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                v = torch.randn(batch, groups, sequence, value, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                forward, backward, timing = attention_times(q, k, v, backend, causal)
                # The engine's count: a causal kernel does half the score and value work of a full one.
                operations = 2.0 * batch * heads * sequence * sequence * (head + value) * (0.5 if causal else 1.0)
                rows.append({"backend": backend_name, "causal": causal, "batch": batch, "heads": heads, "key_value_heads": groups, "sequence": sequence, "head_size": head, "value_head_size": value,
                             "forward_operations": operations, "forward_seconds": forward, "backward_seconds": backward,
                             "bytes": 2 * batch * heads * sequence * (head + value) * 2, "timing": timing})
            except Exception as error:
                rows.append({"backend": backend_name, "causal": causal, "batch": batch, "heads": heads, "sequence": sequence, "head_size": head, "error": repr(error)[:300]})
            finally:
                q = k = v = None
                torch.cuda.empty_cache()
    return rows


def measure_memory(sizes):
    """Elementwise kernels on the multiprocessors: a scaling (one read, one write) and an addition (two reads, one
    write). A tensor copy is not used: in a CUDA graph it becomes a copy-engine transfer, not a kernel."""
    rows = []
    for size in sizes:
        for kind in ("scale", "add"):
            elements = size // 2
            tensors_per_set = 2 if kind == "scale" else 3
            set_bytes = elements * 2 * tensors_per_set
            sets = rotation(set_bytes, most=64)
            try:
                buffers = [[torch.randn(elements, device="cuda", dtype=torch.bfloat16) for _ in range(tensors_per_set)] for _ in range(sets)]
                if kind == "scale":
                    def step(i):
                        source, target = buffers[i % sets]
                        torch.mul(source, 1.5, out=target)
                else:
                    def step(i):
                        x, y, out = buffers[i % sets]
                        torch.add(x, y, out=out)
                moved = set_bytes
                seconds = graph_time(step, launches_for(moved / 2.5e12))
                rows.append({"kernel": kind, "bytes": moved, "seconds": seconds})
            except Exception as error:
                rows.append({"kernel": kind, "bytes": set_bytes, "error": repr(error)[:300]})
            finally:
                buffers = None
                torch.cuda.empty_cache()
    return rows


def sample_power(step, seconds, label):
    """Runs step() back to back for `seconds`, sampling NVML every 50 ms; returns medians over the last two thirds."""
    try:
        import pynvml
        pynvml.nvmlInit()
        handle = pynvml.nvmlDeviceGetHandleByIndex(0)
    except Exception as error:
        return {"label": label, "error": repr(error)}
    samples, stop = [], threading.Event()

    def sampler():
        while not stop.is_set():
            try:
                samples.append((time.monotonic(), pynvml.nvmlDeviceGetPowerUsage(handle) / 1000,
                                pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_SM),
                                pynvml.nvmlDeviceGetClockInfo(handle, pynvml.NVML_CLOCK_MEM),
                                pynvml.nvmlDeviceGetTemperature(handle, pynvml.NVML_TEMPERATURE_GPU)))
            except Exception:
                pass
            time.sleep(0.05)

    thread = threading.Thread(target=sampler)
    torch.cuda.synchronize()
    began = time.monotonic()
    thread.start()
    calls = 0
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    while time.monotonic() - began < seconds:
        for _ in range(10):
            step()
        calls += 10
        torch.cuda.synchronize()
    end.record()
    end.synchronize()
    stop.set()
    thread.join()
    kept = [s for s in samples if s[0] - began > seconds / 3] or samples
    return {"label": label, "calls": calls, "seconds": start.elapsed_time(end) / 1000,
            "samples": len(kept),
            "power_w": statistics.median(s[1] for s in kept) if kept else None,
            "sm_clock_mhz": statistics.median(s[2] for s in kept) if kept else None,
            "memory_clock_mhz": statistics.median(s[3] for s in kept) if kept else None,
            "temperature_c": statistics.median(s[4] for s in kept) if kept else None}


def measure_power(seconds):
    rows = []
    idle = sample_power(lambda: time.sleep(0.01), 3, "idle (process resident, no kernels)")
    rows.append(idle)
    size = 8192
    a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    b = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
    out = torch.empty(size, size, device="cuda", dtype=torch.bfloat16)
    gemm = sample_power(lambda: torch.mm(a, b, out=out), seconds, "bf16 multiply 8192 x 8192 x 8192")
    gemm["operations_per_call"] = 2.0 * size ** 3
    rows.append(gemm)
    a = b = out = None
    elements = 1 << 29  # 1 GiB of BF16 each way
    source = torch.randn(elements, device="cuda", dtype=torch.bfloat16)
    target = torch.empty_like(source)
    copy = sample_power(lambda: target.copy_(source), seconds, "copy of 1 GiB")
    copy["bytes_per_call"] = 2.0 * elements * 2
    rows.append(copy)
    return rows


def matrix_shapes():
    sizes = (1024, 2048, 4096, 8192, 16384, 28672)
    tokens = (16, 128, 512, 1024, 2048, 4096, 8192, 16384)
    shapes = []
    for m in tokens:
        for k in sizes:
            for n in sizes:
                shapes.append((m, k, n, "NT"))
    # The backward's two layouts, on a subset: the input gradient (NN) and the weight gradient (TN).
    for m in (1024, 4096, 16384):
        for k in (2048, 8192, 28672):
            for n in (2048, 8192, 28672):
                shapes.append((m, k, n, "NN"))
                shapes.append((m, k, n, "TN"))
    return shapes


def fp8_shapes():
    return [(m, k, n, "NT") for m in (512, 2048, 8192, 16384) for k in (2048, 4096, 8192, 16384) for n in (2048, 4096, 8192, 16384, 28672)]


def attention_shapes():
    shapes = []
    for sequence in (512, 1024, 2048, 4096, 8192, 16384, 32768):
        for heads in (8, 32, 64):
            batch = max(1, 8192 // sequence)
            shapes.append((batch, heads, sequence, 128))
    return shapes


def full_attention_shapes():
    """Unmasked attention, as a context-parallel ring step runs it: few heads, long sequences."""
    return [(1, heads, sequence, 128) for sequence in (4096, 8192, 16384, 32768) for heads in (4, 8, 32)]

#!/usr/bin/env python3
"""Measures the kernel efficiencies that ClusterTwin's efficiency curves stand for, on one CUDA GPU.

Writes one JSON file of raw measurements (every shape, its time, its operations and bytes), which
`clustertwin calibrate --kernels` turns into a family's matrix, attention and memory curves (docs/calibration.md,
"Measured curve shapes"). Needs PyTorch with CUDA; takes about three minutes on an H100.

    python3 tools/measure-kernels.py --out measurements/nvidia-h100-sxm.json

What it measures, counted exactly as the engine counts them (src/ClusterTwin/Performance/Kernels/LayerKernels.cs):
  matrix     one multiply of (m x k) by (k x n): 2mkn operations; three layouts, as a linear layer's forward
             (x W^T), input gradient (dy W) and weight gradient (dy^T x) run them; BF16, and FP8 (E4M3, per-tensor
             scales) on a subset. Kernel time alone: a CUDA graph of many launches over rotating inputs, so that
             neither the host's launch gaps nor a warm L2 cache flatter the small shapes.
  attention  fused attention (PyTorch's scaled_dot_product_attention, FlashAttention-2 and cuDNN), causal and
             unmasked: forward operations 2 b h s^2 (d_qk + d_v), halved under the causal mask; forward and
             backward timed apart, as the device time of their kernels (the profiler's records).
  memory     a scaling (read + write) and an addition (two reads + one write), by bytes moved.
  power      NVML's power, clocks and temperature while one large multiply, then a copy, runs for several seconds.
Checks that are not curves run alone, each under --only (main() says what each times): grouped-experts, for
instance, times an expert layer's multiplies one per expert and as one grouped kernel, device and wall-clock.
The card is measured as found: no clock, power or mode setting is touched.
"""
import argparse
import json
import math
import platform
import statistics
import threading
import time

import torch
import torch.nn.functional as F

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


def megatron_fused_cross_entropy():
    """Megatron-Core's fused vocab-parallel cross entropy (fusions/fused_cross_entropy.py, used under
    cross_entropy_loss_fusion with the "native" implementation) at tensor parallelism 1: the same operations as the
    unfused one in four functions, each compiled by Megatron's jit_fuser, which is torch.compile on PyTorch 2.2 and
    later. Returns forward(logits, target) -> (loss, saved) and backward(saved, grad_output) -> BF16 gradient."""

    @torch.compile
    def logits_max(logits):
        logits = logits.float()
        return logits, torch.max(logits, dim=-1)[0]

    @torch.compile
    def predicted_logits(logits, target, maximum):
        logits -= maximum.unsqueeze(dim=-1)
        rows = torch.arange(start=0, end=logits.size()[0], device=logits.device)
        predicted = logits[rows, target].clone().contiguous()
        exp_logits = logits
        torch.exp(logits, out=exp_logits)
        return torch.cat((predicted, exp_logits.sum(dim=-1))), exp_logits

    @torch.compile
    def cross_entropy_loss(exp_logits, predicted_sum):
        predicted, total = torch.split(predicted_sum, predicted_sum.size()[0] // 2)
        loss = torch.log(total) - predicted
        exp_logits.div_(total.unsqueeze(dim=-1))
        return exp_logits, loss

    @torch.compile
    def gradients(softmax, grad_output, target):
        rows = torch.arange(start=0, end=softmax.size()[0], device=softmax.device)
        softmax[rows, target] -= 1.0
        softmax.mul_(grad_output.unsqueeze(dim=-1))
        return softmax.to(torch.bfloat16)

    def forward(logits, target):
        logits, maximum = logits_max(logits)
        predicted_sum, exp_logits = predicted_logits(logits, target, maximum)
        return cross_entropy_loss(exp_logits, predicted_sum)

    return forward, gradients


def measure_cross_entropy(shapes):
    """Megatron-Core's unfused vocab-parallel cross entropy (tensor_parallel/cross_entropy.py at tensor parallelism 1:
    the logits cast to FP32, max, subtract, exp, sum, divide; the backward's gradient in place, scaled, cast back to
    BF16), its fused one (megatron_fused_cross_entropy) and PyTorch's cross_entropy on the FP32 logits, forward and
    backward, each timed whole with CUDA events, beside a copy of the BF16 logits: their cost reads as bytes per logit
    at the copy's bandwidth."""
    fused_forward, fused_backward = megatron_fused_cross_entropy()
    rows = []
    for tokens, vocabulary in shapes:
        try:
            logits = torch.randn(tokens, vocabulary, device="cuda", dtype=torch.bfloat16)
            target = torch.randint(0, vocabulary, (tokens,), device="cuda")
            rows_index = torch.arange(tokens, device="cuda")
            grad_output = torch.ones(tokens, device="cuda")

            def megatron():
                x = logits.float()
                x -= x.max(dim=-1)[0].unsqueeze(-1)
                predicted = x[rows_index, target]
                torch.exp(x, out=x)
                total = x.sum(dim=-1)
                loss = torch.log(total) - predicted
                x.div_(total.unsqueeze(-1))
                x[rows_index, target] -= 1.0
                x.mul_(grad_output.unsqueeze(-1))
                return x.to(torch.bfloat16), loss

            def fused():
                softmax, loss = fused_forward(logits, target)
                return fused_backward(softmax, grad_output, target), loss

            def plain():
                x = logits.detach().requires_grad_()
                torch.nn.functional.cross_entropy(x.float(), target).backward()

            copy = torch.empty_like(logits)
            copy_seconds = event_time(lambda: copy.copy_(logits))
            megatron_seconds = event_time(megatron)
            reference, fused_result = megatron()[0].float(), fused()[0].float()
            agreement = float((reference - fused_result).abs().max())
            reference = fused_result = None
            fused_seconds = event_time(fused)
            plain_seconds = event_time(plain)
            bandwidth = 2 * logits.numel() * logits.element_size() / copy_seconds
            rows.append({"tokens": tokens, "vocabulary": vocabulary, "logits": logits.numel(), "copy_seconds": copy_seconds,
                         "fused_gradient_max_difference": agreement, "megatron_unfused_seconds": megatron_seconds, "megatron_fused_seconds": fused_seconds,
                         "torch_cross_entropy_seconds": plain_seconds,
                         "megatron_bytes_per_logit": megatron_seconds * bandwidth / logits.numel(),
                         "megatron_fused_bytes_per_logit": fused_seconds * bandwidth / logits.numel(),
                         "torch_bytes_per_logit": plain_seconds * bandwidth / logits.numel()})
        except Exception as error:
            rows.append({"tokens": tokens, "vocabulary": vocabulary, "error": repr(error)[:300]})
        finally:
            logits = copy = None
            torch.cuda.empty_cache()
    return rows


def measure_contention(resident_counts, gemm_sizes):
    """A matrix multiply's time while another kernel holds some of the multiprocessors, as a collective library's
    kernels do when a data-parallel reduction overlaps compute (NCCL runs one thread block per channel, each on a
    multiprocessor of its own). The stand-in is a persistent copy kernel of `resident` thread blocks of 512 threads,
    launched first on a second stream and running longer than the multiplies; each block copies its own 4 MiB slice of
    a 256 MiB buffer over and over, so it also loads the memory as a collective's copies do. Reported: the multiplies'
    time alone and beside the copy, the slowdown, and the copy's bandwidth while it runs beside them."""
    import triton
    import triton.language as tl

    @triton.jit
    def persistent_copy(source, target, slice_elements, rounds, BLOCK: tl.constexpr):
        offset = tl.program_id(0) * slice_elements
        for _ in range(rounds):
            for start in range(0, slice_elements, BLOCK):
                index = offset + start + tl.arange(0, BLOCK)
                tl.store(target + index, tl.load(source + index))

    slice_elements = 1 << 21  # 4 MiB of BF16 per block
    largest = max(resident_counts)
    source = torch.randn(largest * slice_elements, device="cuda", dtype=torch.bfloat16)
    target = torch.empty_like(source)
    side = torch.cuda.Stream()
    rows = []
    for size in gemm_sizes:
        a = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
        b = torch.randn(size, size, device="cuda", dtype=torch.bfloat16)
        out = torch.empty(size, size, device="cuda", dtype=torch.bfloat16)
        calls = max(10, int(0.03 / (2 * size ** 3 / 600e12)))

        def multiplies():
            for _ in range(calls):
                torch.matmul(a, b, out=out)

        alone = event_time(multiplies) / calls
        for resident in resident_counts:
            if resident == 0:
                continue
            # Rounds enough to outlast the multiplies (taking a block at 20 GB/s; they copied 33-35 GB/s on an H100, and
            # the row says whether every trial's copy outlasted its multiplies).
            rounds = max(4, int(6 * calls * alone * 20e9 / (slice_elements * 4)))
            times, bandwidths, outlasted = [], [], []
            for _ in range(3):
                torch.cuda.synchronize()
                copy_start, copy_end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                with torch.cuda.stream(side):
                    copy_start.record()
                    persistent_copy[(resident,)](source, target, slice_elements, rounds, BLOCK=4096, num_warps=16)
                    copy_end.record()
                time.sleep(0.002)  # the copy's blocks are resident before the multiplies arrive
                start.record()
                multiplies()
                end.record()
                torch.cuda.synchronize()
                times.append(start.elapsed_time(end) / 1000 / calls)
                copy_seconds = copy_start.elapsed_time(copy_end) / 1000
                bandwidths.append(2.0 * resident * slice_elements * 2 * rounds / copy_seconds)
                outlasted.append(copy_seconds > 1.2 * calls * times[-1])
            beside = statistics.median(times)
            # Alone again after each count, so that a drift of the card between the timings shows as spread.
            alone_after = event_time(multiplies) / calls
            rows.append({"size": size, "resident_blocks": resident, "multiprocessors": torch.cuda.get_device_properties(0).multi_processor_count,
                         "alone_seconds": alone, "alone_after_seconds": alone_after, "beside_seconds": beside, "slowdown": beside / alone - 1,
                         "copy_bandwidth": statistics.median(bandwidths), "copy_outlasted_multiplies": all(outlasted)})
        a = b = out = None
    return rows


def measure_expert_launch(local_experts, tokens_per_expert, hidden=4096, feed_forward=1536):
    """The host's time per expert multiply of an eager grouped expert layer in plain PyTorch, as Transformer Engine's
    grouped linear runs one: the input split per expert, one multiply per expert for the gated up-projection and one
    for the down-projection, forward and backward through autograd (each expert's three multiplies a pass: forward,
    input gradient, weight gradient). BF16, and FP8 with per-tensor current scaling (each operand's absolute maximum,
    its scale and its cast before torch._scaled_mm, as Transformer Engine's Float8CurrentScaling does per expert).
    Timed twice: wall-clock with the device synchronized once at the end (what the step waits), and the device's own
    time from CUDA events; where wall-clock exceeds the device time by far, the host bounds the layer, and wall-clock
    over the multiplies is the host's time per multiply. No Transformer Engine: its Python adds to these."""
    rows = []
    fp8 = torch.float8_e4m3fn

    def quantize(tensor):
        amax = tensor.abs().max().float()
        scale = 448.0 / torch.clamp(amax, min=1e-12)
        return (tensor * scale).to(fp8), scale.reciprocal()

    def fp8_matmul(a, b_t):
        # a: (m, k) row-major; b_t: (n, k) row-major, used as the (k, n) column-major operand.
        qa, sa = quantize(a)
        qb, sb = quantize(b_t)
        return torch._scaled_mm(qa, qb.t(), scale_a=sa, scale_b=sb, out_dtype=torch.bfloat16)

    class Fp8Linear(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, weight):
            ctx.save_for_backward(x, weight)
            return fp8_matmul(x, weight)

        @staticmethod
        def backward(ctx, grad):
            x, weight = ctx.saved_tensors
            grad = grad.contiguous()
            grad_input = fp8_matmul(grad, weight.t().contiguous())
            grad_weight = fp8_matmul(grad.t().contiguous(), x.t().contiguous())
            return grad_input, grad_weight

    for experts in local_experts:
        for tokens in tokens_per_expert:
            for precision in ("bf16", "fp8"):
                try:
                    up = [torch.randn(2 * feed_forward, hidden, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(experts)]
                    down = [torch.randn(hidden, feed_forward, device="cuda", dtype=torch.bfloat16, requires_grad=True) for _ in range(experts)]
                    x = torch.randn(experts * tokens, hidden, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                    counts = [tokens] * experts

                    def layer():
                        outputs = []
                        for chunk, w1, w2 in zip(torch.split(x, counts), up, down):
                            if precision == "bf16":
                                h = chunk @ w1.t()
                            else:
                                h = Fp8Linear.apply(chunk, w1)
                            gate, value = h.chunk(2, dim=-1)
                            h = F.silu(gate) * value
                            outputs.append(h @ w2.t() if precision == "bf16" else Fp8Linear.apply(h.contiguous(), w2))
                        torch.cat(outputs).sum().backward()

                    for _ in range(3):
                        layer()
                    torch.cuda.synchronize()
                    repeats = 20
                    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                    began = time.perf_counter()
                    start.record()
                    for _ in range(repeats):
                        layer()
                    end.record()
                    torch.cuda.synchronize()
                    wall = (time.perf_counter() - began) / repeats
                    # The device's own time: the same layer captured in a CUDA graph leaves the host out.
                    try:
                        device = graph_time(lambda i: layer(), 5)
                    except Exception:  # a layer that cannot be captured keeps its wall-clock row
                        device = None
                        torch.cuda.synchronize()
                    multiplies = experts * 2 * 3
                    rows.append({"local_experts": experts, "tokens_per_expert": tokens, "hidden": hidden, "feed_forward": feed_forward,
                                 "precision": precision, "multiplies": multiplies, "wall_seconds": wall, "graph_seconds": device,
                                 "wall_per_multiply_us": wall / multiplies * 1e6})
                except Exception as error:
                    rows.append({"local_experts": experts, "tokens_per_expert": tokens, "precision": precision, "error": repr(error)[:300]})
                finally:
                    up = down = x = None
                    torch.cuda.empty_cache()
    return rows


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


def measure_grouped_experts(cases):
    """An expert layer's multiplies run two ways, forward and backward through autograd, in BF16: one multiply per
    local expert in turn on one stream (the input split per expert, as measure_expert_launch runs them) and one
    grouped multiply for all local experts (torch._grouped_mm: one CUTLASS kernel over every expert's rows). Each
    expert's gated up-projection (hidden to twice the expert width) and down-projection, SiLU between. The backward is
    torch.autograd.grad, so no gradient accumulates from one run into the next. Timed three ways: wall-clock over 20
    layers with the device synchronized once at the end; the device's time for the whole layer (a CUDA graph's
    replays: multiplies, SiLU, the split and join copies); and the multiplies' kernels alone (the profiler's records
    of the kernels whose names are a multiply's, every kernel's time kept in the row). The grouped forward output and
    all gradients are checked against the loop's. `cases` are (model, hidden, expert width, local experts, tokens per
    expert)."""
    rows = []
    for model, hidden, feed_forward, experts, tokens in cases:
        up = down = x = output_gradient = up_each = down_each = None
        try:
            up = (torch.randn(experts, 2 * feed_forward, hidden, device="cuda", dtype=torch.bfloat16) * hidden ** -0.5).requires_grad_(True)
            down = (torch.randn(experts, hidden, feed_forward, device="cuda", dtype=torch.bfloat16) * feed_forward ** -0.5).requires_grad_(True)
            x = torch.randn(experts * tokens, hidden, device="cuda", dtype=torch.bfloat16, requires_grad=True)
            counts = [tokens] * experts
            offsets = torch.arange(1, experts + 1, device="cuda", dtype=torch.int32) * tokens
            # A dense output gradient: the broadcast one of .sum() has zero strides, which the grouped backward refuses.
            output_gradient = torch.randn(experts * tokens, hidden, device="cuda", dtype=torch.bfloat16)

            # The loop's weights are one tensor per expert, as a framework holds them: indexing the stacked tensor would
            # make each expert's weight gradient a full-size scatter, a cost that grows with the square of the experts.
            up_each = [w.detach().clone().requires_grad_(True) for w in up]
            down_each = [w.detach().clone().requires_grad_(True) for w in down]

            def loop_forward():
                outputs = []
                for chunk, w1, w2 in zip(torch.split(x, counts), up_each, down_each):
                    gate, value = (chunk @ w1.t()).chunk(2, dim=-1)
                    outputs.append((F.silu(gate) * value) @ w2.t())
                return torch.cat(outputs)

            def grouped_forward():
                gate, value = torch._grouped_mm(x, up.transpose(-2, -1), offs=offsets).chunk(2, dim=-1)
                return torch._grouped_mm((F.silu(gate) * value).contiguous(), down.transpose(-2, -1), offs=offsets)

            def loop_layer():
                return torch.autograd.grad(loop_forward(), [x, *up_each, *down_each], output_gradient)

            def grouped_layer():
                return torch.autograd.grad(grouped_forward(), [x, up, down], output_gradient)

            def relative(value, reference):
                return ((value.float() - reference.float()).norm() / reference.float().norm()).item()

            loop_gradients, grouped_gradients = loop_layer(), grouped_layer()
            with torch.no_grad():
                errors = {"output": relative(grouped_forward(), loop_forward()),
                          "input_gradient": relative(grouped_gradients[0], loop_gradients[0]),
                          "up_gradient": relative(grouped_gradients[1], torch.stack(loop_gradients[1:1 + experts])),
                          "down_gradient": relative(grouped_gradients[2], torch.stack(loop_gradients[1 + experts:]))}
            loop_gradients = grouped_gradients = None
            for way, layer in (("per-expert", loop_layer), ("grouped", grouped_layer)):
                wall, device = wall_and_graph(layer)
                kernels = kernel_times(layer)
                multiplies_seconds = sum(seconds for name, seconds in kernels.items() if is_multiply_kernel(name))
                operations = 3 * 2.0 * experts * tokens * hidden * 3 * feed_forward  # forward, input and weight gradients
                rows.append({"model": model, "hidden": hidden, "feed_forward": feed_forward, "local_experts": experts,
                             "tokens_per_expert": tokens, "way": way, "multiplies": experts * 2 * 3 if way == "per-expert" else 2 * 3,
                             "operations": operations, "wall_seconds": wall, "graph_seconds": device,
                             "multiply_kernels_seconds": multiplies_seconds, "kernels_seconds": kernels,
                             "relative_error_against_per_expert": errors})
                print(model, experts, tokens, way, "wall %.1f us" % (wall * 1e6), "graph %s us" % (None if device is None else round(device * 1e6, 1)),
                      "multiplies %.1f us, %.0f TFLOP/s" % (multiplies_seconds * 1e6, operations / multiplies_seconds / 1e12) if multiplies_seconds else "", flush=True)
            print("  grouped against per-expert:", {key: "%.1e" % value for key, value in errors.items()}, flush=True)
        except Exception as error:
            rows.append({"model": model, "local_experts": experts, "tokens_per_expert": tokens, "error": repr(error)[:300]})
            print(rows[-1], flush=True)
        finally:
            up = down = x = output_gradient = up_each = down_each = None
            torch.cuda.empty_cache()
    return rows


def measure_moe_routing(cases):
    """What an expert layer does around its experts, on one chip, as Megatron-Core runs it without its fused kernels
    (moe_permute_fusion and moe_router_fusion off): the router's multiply, top-k over its scores, the load-balancing
    loss (every expert's summed probabilities against its token count), for a capacity factor the per-expert top-k
    over tokens that drops and pads, the permutation (an argsort of the routing map and an index_select of the
    tokens), the unpermutation (each token scaled by its probability and scatter-added back), forward and backward
    through torch.autograd.grad. The all-to-alls and the experts are left out: the permuted tokens go straight back.
    Timed as the layer replayed as a CUDA graph, as the profiler's kernels (every kernel's time kept) and as
    wall-clock. The router in FP32 multiplies in FP32 (the input and the weight cast first, as Megatron-Core's
    router gating linear does). The dropless path permutes by an argsort of the routing map, as the Megatron-Core
    read does (earlier versions used masked_select, which waits on the host). `cases` are (model, tokens on the chip,
    hidden, experts, top-k, capacity factor or None, router dtype, softmax before the top-k)."""
    rows = []
    for model, tokens, hidden, experts, top, capacity_factor, router_dtype, pre_softmax in cases:
        x = router = output_gradient = None
        try:
            x = torch.randn(tokens, hidden, device="cuda", dtype=torch.bfloat16, requires_grad=True)
            router = (torch.randn(experts, hidden, device="cuda", dtype=torch.bfloat16) * hidden ** -0.5).requires_grad_(True)
            output_gradient = torch.randn(tokens, hidden, device="cuda", dtype=torch.bfloat16)
            dtype = torch.float32 if router_dtype == "fp32" else torch.bfloat16
            capacity = None if capacity_factor is None else math.ceil(tokens * top / experts * capacity_factor)

            def layer():
                logits = x.to(dtype) @ router.to(dtype).t()
                if pre_softmax:  # softmax over every expert, then the top-k of the probabilities (Mixtral's)
                    top_probs, top_indices = torch.topk(torch.softmax(logits, dim=-1, dtype=torch.float32).to(dtype), k=top, dim=1)
                else:  # the top-k of the logits, then a softmax over those k
                    top_logits, top_indices = torch.topk(logits, k=top, dim=1)
                    top_probs = torch.softmax(top_logits, dim=-1, dtype=torch.float32).to(dtype)
                probs = torch.zeros_like(logits).scatter(1, top_indices, top_probs)
                routing_map = torch.zeros_like(logits, dtype=torch.int32).scatter(1, top_indices, 1).bool()
                # The switch load-balancing loss on the full softmax's scores, its gradient carried back as Megatron's
                # MoEAuxLossAutoScaler does (here simply added to the loss).
                scores = torch.softmax(logits, dim=-1, dtype=torch.float32)
                auxiliary = torch.sum(scores.sum(dim=0) * routing_map.sum(dim=0)) * (experts * 1e-2 / (top * tokens * tokens))
                if capacity is not None:
                    _, capacity_indices = torch.topk(probs, k=capacity, dim=0, sorted=False)
                    capacity_mask = torch.zeros_like(logits, dtype=torch.int32).scatter(0, capacity_indices, 1).bool()
                    probs = probs * capacity_mask
                    routing_map = capacity_mask
                    per_expert = capacity
                    sorted_indices = routing_map.to(torch.int8).t().contiguous().argsort(dim=-1, descending=True, stable=True)[:, :per_expert].contiguous().view(-1)
                    flat = (torch.arange(experts, device="cuda").unsqueeze(-1) * tokens + sorted_indices.view(experts, per_expert)).view(-1)
                else:
                    flat = routing_map.t().contiguous().reshape(-1).argsort(descending=True, stable=True)[:tokens * top]
                    sorted_indices = flat % tokens
                permuted = x.index_select(0, sorted_indices)
                permuted_probs = probs.t().contiguous().reshape(-1).index_select(0, flat)
                # The experts would run here; the unpermutation scales each copy by its probability and adds it back.
                weighted = permuted * permuted_probs.unsqueeze(-1)
                output = torch.zeros(tokens, hidden, dtype=weighted.dtype, device="cuda").scatter_add(0, sorted_indices.unsqueeze(1).expand(-1, hidden), weighted)
                return torch.autograd.grad([output.to(torch.bfloat16), auxiliary], [x, router], [output_gradient, torch.ones((), device="cuda")])

            wall, device = wall_and_graph(layer)
            kernels = kernel_times(layer)
            rows.append({"model": model, "tokens": tokens, "hidden": hidden, "experts": experts, "top_k": top, "capacity_factor": capacity_factor,
                         "router_dtype": router_dtype, "pre_softmax": pre_softmax, "wall_seconds": wall, "graph_seconds": device, "kernels_seconds": kernels,
                         "kernel_seconds_total": sum(kernels.values())})
            print(model, tokens, hidden, experts, top, capacity_factor, router_dtype, "wall %.1f us" % (wall * 1e6),
                  "graph %s us" % (None if device is None else round(device * 1e6, 1)), "kernels %.1f us" % (sum(kernels.values()) * 1e6), flush=True)
        except Exception as error:
            rows.append({"model": model, "tokens": tokens, "error": repr(error)[:300]})
            print(rows[-1], flush=True)
        finally:
            x = router = output_gradient = None
            torch.cuda.empty_cache()
    return rows


def measure_ring_steps(heads=16, key_value_heads=1, head=128):
    """The kernels of one context-parallel ring step as Megatron-Core's load-balanced ring runs them (each rank holds
    two of the 2c chunks): a step against an earlier rank's keys runs the rank's two query chunks against one key
    chunk, a step against a later rank's runs one query chunk against two key chunks, both unmasked; beside them the
    square unmasked kernel of the same operations (the shape the engine's curve is timed on), and the FP32 output
    correction each forward step adds (the running output rescaled by the change in log-sum-exp and the step's output
    added). Qwen3-235B's heads at tensor parallelism 4: 16 query heads over 1 key-value head."""
    from torch.nn.attention import SDPBackend
    rows = []
    for chunk in (4096, 8192):
        for name, queries, keys, kv_heads in (("earlier: two query chunks, one key chunk", 2 * chunk, chunk, key_value_heads),
                                               ("later: one query chunk, two key chunks", chunk, 2 * chunk, key_value_heads),
                                               ("square, the same operations, multi-head", int((2 * chunk * chunk) ** 0.5) // 128 * 128, None, None)):
            try:
                keys = keys or queries
                kv_heads = kv_heads or heads
                q = torch.randn(1, heads, queries, head, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                k = torch.randn(1, kv_heads, keys, head, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                v = torch.randn(1, kv_heads, keys, head, device="cuda", dtype=torch.bfloat16, requires_grad=True)
                forward, backward, timing = attention_times(q, k, v, SDPBackend.CUDNN_ATTENTION, causal=False)
                running = torch.randn(queries, heads, head, device="cuda", dtype=torch.float32)
                step = torch.randn(queries, heads, head, device="cuda", dtype=torch.bfloat16)
                lse_running = torch.randn(heads, queries, device="cuda", dtype=torch.float32)
                lse_step = torch.randn(heads, queries, device="cuda", dtype=torch.float32)

                def correction():
                    new = torch.logaddexp(lse_running, lse_step)
                    running.mul_(torch.exp(lse_running - new).transpose(0, 1).unsqueeze(-1))
                    running.add_(step.float() * torch.exp(lse_step - new).transpose(0, 1).unsqueeze(-1))

                corrected, _ = device_time(correction)
                operations = 4.0 * heads * queries * keys * head
                rows.append({"step": name, "chunk": chunk, "queries": queries, "keys": keys, "heads": heads, "key_value_heads": kv_heads, "head_size": head,
                             "forward_operations": operations, "forward_seconds": forward, "backward_seconds": backward, "correction_seconds": corrected,
                             "forward_tflops": operations / forward / 1e12, "backward_tflops": 2.5 * operations / backward / 1e12, "timing": timing})
            except Exception as error:
                rows.append({"step": name, "chunk": chunk, "error": repr(error)[:300]})
            finally:
                q = k = v = running = step = None
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


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--power-seconds", type=float, default=8)
    parser.add_argument("--quick", action="store_true", help="a few shapes of each kind, to check the script")
    parser.add_argument("--only", choices=("attention", "grouped", "head-sizes", "cross-entropy", "contention", "expert-launch", "grouped-experts", "moe-routing", "ring-steps"), help="time the attention kernels alone (causal and full), grouped-query attention against multi-head, attention at head sizes other than 128, the loss over the vocabulary, matrix multiplies beside a kernel holding some multiprocessors, the host's time per expert multiply of an eager expert layer, an expert layer's multiplies one per expert against one grouped kernel, the routing and permutations around the experts, or a context-parallel ring step's kernels")
    args = parser.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("measure-kernels.py needs a CUDA GPU")
    torch.backends.cuda.matmul.allow_tf32 = False
    began = time.time()
    result = {"tool": "tools/measure-kernels.py", "method": 2, "measured_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "device": device_facts()}

    def save():
        result["wall_seconds"] = round(time.time() - began, 1)
        with open(args.out, "w") as handle:
            json.dump(result, handle, indent=1)

    quick = args.quick

    def phase(name, measure):
        try:
            rows = measure()
        except Exception as error:  # one phase failing keeps the others
            rows = [{"error": repr(error)[:500]}]
        result[name] = result.get(name, []) + rows
        save()
        print(name, "done at", round(time.time() - began), "s", flush=True)

    if args.only == "grouped":
        # Grouped-query attention beside multi-head attention of the same query heads: one key-value head per 1, 4 and
        # 16 query heads, causal and unmasked, at the sequence lengths of context-parallel chunks.
        shapes = [(1, 16, sequence, 128) for sequence in (4096, 16384)]
        for groups in (16, 4, 1):
            phase("attention", lambda: measure_attention(shapes, ["CUDNN_ATTENTION", "FLASH_ATTENTION"], key_value_heads=groups))
            phase("attention", lambda: measure_attention(shapes, ["CUDNN_ATTENTION", "FLASH_ATTENTION"], causal=False, key_value_heads=groups))
        for row in result["attention"]:
            if "forward_seconds" in row:
                print(row["backend"], "causal" if row["causal"] else "full", row["heads"], row["key_value_heads"], row["sequence"], round(row["forward_operations"] / row["forward_seconds"] / 1e12), "fwd", round(2.5 * row["forward_operations"] / row["backward_seconds"] / 1e12), "bwd TFLOP/s")
            else:
                print(row)
        return
    if args.only == "ring-steps":
        phase("ring_steps", lambda: measure_ring_steps())
        for row in result["ring_steps"]:
            print(row)
        return
    if args.only == "expert-launch":
        # Qwen3-235B's expert shape (hidden 4,096, expert 1,536) at 4, 8 and 16 local experts, few and many tokens each.
        phase("expert_launch", lambda: measure_expert_launch([4, 8, 16], [128, 512, 2048]))
        for row in result["expert_launch"]:
            print(row)
        return
    if args.only == "grouped-experts":
        # The expert shapes of four mixture-of-experts models, at local-expert counts and tokens per expert their
        # published layouts give: Qwen3-30B-A3B (hidden 2,048, expert 768; 128 experts over expert parallelism 8 or 16),
        # Qwen3-235B (4,096, 1,536; parallelism 4 to 32), DeepSeek-V3 (7,168, 2,048; 256 experts over 8 to 64) and
        # Mixtral 8x7B (4,096, 14,336; 8 experts over 1 to 8).
        cases = [("qwen3-30b-a3b", 2048, 768, e, t) for e in (8, 16) for t in (128, 512, 2048)]
        cases += [("qwen3-235b-a22b", 4096, 1536, e, t) for e in (4, 16, 32) for t in (128, 512, 2048)]
        cases += [("deepseek-v3", 7168, 2048, e, t) for e in (4, 8, 32) for t in (256, 1024, 4096)]
        cases += [("mixtral-8x7b", 4096, 14336, e, t) for e in (1, 2, 8) for t in (1024, 4096)]
        phase("grouped_experts", lambda: measure_grouped_experts(cases))
        for row in result["grouped_experts"][:2]:  # the kernel names, to check which are counted as multiplies
            for name, seconds in sorted(row.get("kernels_seconds", {}).items(), key=lambda item: -item[1]):
                print("  %s %8.1f us  %s" % ("multiply" if is_multiply_kernel(name) else "other   ", seconds * 1e6, name[:110]))
        # The collective channels of an expert-data-parallel group (NCCL gives a ring with one member per node 2):
        # multiplies beside 1, 2 and 4 resident blocks.
        phase("contention", lambda: measure_contention([0, 1, 2, 4], [4096, 8192, 16384]))
        for row in result["contention"]:
            print(row)
        return
    if args.only == "moe-routing":
        # Mixtral 8x7B and 8x22B as NeMo's recipes run them (8 experts, top-2 after a softmax over all 8, capacity
        # factor 1 with padding; 8,192 tokens on a chip for 8x7B, micro-batch 2 of 4,096, and 4,096 for 8x22B, 65,536
        # over context parallelism 8 and sequence parallelism 2), and Qwen3-235B dropless (128 experts, top-8 of the
        # logits, 4,096 tokens), the router in BF16 and in FP32.
        cases = [(model, tokens, hidden, 8, 2, 1.0, dtype, True) for model, tokens, hidden in (("mixtral-8x7b", 8192, 4096), ("mixtral-8x22b", 4096, 6144)) for dtype in ("bf16", "fp32")]
        cases += [("qwen3-235b-a22b", 4096, 4096, 128, 8, None, dtype, False) for dtype in ("bf16", "fp32")]
        phase("moe_routing", lambda: measure_moe_routing(cases))
        for row in result["moe_routing"][:1]:
            for name, seconds in sorted(row.get("kernels_seconds", {}).items(), key=lambda item: -item[1]):
                print("  %8.1f us  %s" % (seconds * 1e6, name[:120]))
        return
    if args.only == "contention":
        # 8, 16 and 32 resident blocks: the collective channels NCCL logs on 8-GPU nodes run 16 to 32.
        phase("contention", lambda: measure_contention([0, 8, 16, 32, 66], [4096, 8192, 16384]))
        for row in result["contention"]:
            print(row)
        return
    if args.only == "cross-entropy":
        # The loss over the catalogue's vocabularies (Llama 2's 32,000, MPT's 50,368, Llama 3's 128,256, Qwen3's 151,936,
        # Nemotron's 256,000) at 4,096 to 16,384 tokens of a micro-batch.
        phase("cross_entropy", lambda: measure_cross_entropy([(8192, 32000), (16384, 32000), (8192, 50368), (4096, 128256), (8192, 128256), (4096, 151936), (4096, 256000)]))
        for row in result["cross_entropy"]:
            print(row)
        return
    if args.only == "head-sizes":
        # Causal attention at the head sizes the catalogue's models use (64: small GPT and MPT; 80, 96; 112: MPT-30B;
        # 128; 192: Nemotron-4 340B and latent attention's queries and keys, whose values are 128; 256), with about
        # 4,096 channels of heads, so that each row does about the same work as its 128 neighbour.
        for sequence in (2048, 4096, 8192):
            batch = max(1, 16384 // sequence)
            shapes = [(batch, max(1, round(4096 / head)), sequence, head) for head in (64, 80, 96, 112, 128, 192, 256)]
            phase("attention", lambda: measure_attention(shapes, ["CUDNN_ATTENTION", "FLASH_ATTENTION"]))
            # Latent attention's 192-wide queries and keys over 128-wide values: heads for the same work as the rows above.
            phase("attention", lambda: measure_attention([(batch, round(4096 / ((192 + 128) / 2)), sequence, 192)], ["CUDNN_ATTENTION"], value_head=128))
        for row in result["attention"]:
            if "forward_seconds" in row:
                print(row["backend"], row["heads"], row["sequence"], row["head_size"], row["value_head_size"], round(row["forward_operations"] / row["forward_seconds"] / 1e12), "fwd", round(2.5 * row["forward_operations"] / row["backward_seconds"] / 1e12), "bwd TFLOP/s")
            else:
                print(row)
        return
    if args.only != "attention":
        phase("power", lambda: measure_power(2 if quick else args.power_seconds))
        print("power", json.dumps(result["power"]), flush=True)
        phase("memory", lambda: measure_memory([1 << p for p in ((20, 26) if quick else range(16, 31, 2))]))
        shapes = matrix_shapes()
        phase("matrix", lambda: measure_matrix(shapes[:6] if quick else shapes, "bf16"))
        phase("matrix", lambda: measure_matrix(fp8_shapes()[:3] if quick else fp8_shapes(), "fp8", fp8_fast_accumulation=True))
        phase("matrix", lambda: measure_matrix(fp8_shapes()[:3] if quick else fp8_shapes()[::4], "fp8", fp8_fast_accumulation=False))
    phase("attention", lambda: measure_attention(attention_shapes()[:3] if quick else attention_shapes() + full_attention_shapes(), ["FLASH_ATTENTION", "CUDNN_ATTENTION"]))
    phase("attention", lambda: measure_attention(full_attention_shapes()[:3] if quick else full_attention_shapes(), ["FLASH_ATTENTION", "CUDNN_ATTENTION"], causal=False))
    for group in ("power", "memory", "matrix"):
        result.setdefault(group, [])
    errors = sum(1 for group in ("matrix", "attention", "memory") for row in result[group] if "error" in row)
    print(f"{len(result['matrix'])} multiplies, {len(result['attention'])} attention, {len(result['memory'])} memory rows, {errors} errors, {result['wall_seconds']} s")
    for row in result["matrix"]:
        if "seconds" in row and "m" in row and row["m"] in (4096, 16384) and row["k"] == row["n"] == 8192:
            print(row["precision"], row["layout"], row["m"], row["k"], row["n"], round(row["operations"] / row["seconds"] / 1e12, 1), "TFLOP/s")
    for row in result["attention"]:
        if "forward_seconds" in row and (row["heads"] == 32 or not row["causal"]):
            print(row["backend"], "causal" if row["causal"] else "full", row["heads"], row["sequence"], "%.3g" % row["forward_operations"], round(row["forward_operations"] / row["forward_seconds"] / 1e12, 1), "fwd", round(2.5 * row["forward_operations"] / row["backward_seconds"] / 1e12, 1), "bwd TFLOP/s")
    for row in result["memory"]:
        if "seconds" in row:
            print(row["kernel"], row["bytes"], round(row["bytes"] / row["seconds"] / 1e12, 2), "TB/s")


if __name__ == "__main__":
    main()

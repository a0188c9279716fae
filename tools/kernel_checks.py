"""Checks of other engine costs on a GPU (tools/measure-kernels.py --only cross-entropy, contention, ring-steps): the
loss over the vocabulary, multiplies beside a kernel holding multiprocessors, a context-parallel ring step's kernels.
None of them makes a curve."""
import statistics
import time

import torch

from kernel_curves import attention_times
from kernel_timing import device_time, event_time


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

"""Checks of the engine's mixture-of-experts costs on a GPU (tools/measure-kernels.py --only expert-launch,
grouped-experts, moe-routing): the host's time per expert multiply, expert multiplies one by one against one grouped
kernel, and the token routing without fused kernels. None of them makes a curve."""
import math
import time

import torch
import torch.nn.functional as F

from kernel_timing import graph_time, is_multiply_kernel, kernel_times, wall_and_graph


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

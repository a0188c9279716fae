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
Checks that make no curve each have an --only mode (main() says what each times). Beside this file: kernel_timing.py
(how kernels are timed), kernel_curves.py (the curves' kernels), kernel_checks.py and kernel_checks_experts.py (the
checks).
The card is measured as found: no clock, power or mode setting is touched.
"""
import argparse
import json
import time

import torch

from kernel_checks import measure_contention, measure_cross_entropy, measure_ring_steps
from kernel_checks_experts import measure_expert_launch, measure_grouped_experts, measure_moe_routing
from kernel_curves import (attention_shapes, fp8_shapes, full_attention_shapes, matrix_shapes, measure_attention, measure_matrix,
                           measure_memory, measure_power)
from kernel_timing import device_facts, is_multiply_kernel


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

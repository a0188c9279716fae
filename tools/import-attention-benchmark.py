#!/usr/bin/env python3
"""Turn a published fused-attention benchmark into the kernel-measurement file `clustertwin calibrate --kernels` reads.

NVIDIA's cudnn-frontend repository publishes SDPA training timings on GPUs we cannot time ourselves
(benchmark/sdpa_benchmark_training/results/MODEL/GPU/*.csv): one attention layer's forward and backward, timed apart
through the cuDNN back end, with the causal mask (top_left) and without it (no_mask); a row per pass, or in the older
files one row with both. This script copies the rows of
one back end, data type and backward mode into the JSON format tools/measure-kernels.py writes, attention rows only,
with the device and the source the CSV came from:

    python3 tools/import-attention-benchmark.py CSV --source "NVIDIA/cudnn-frontend PATH @ COMMIT" \
        --measured 2026-07-24 --out measurements/FILE.json

Only the standard library is used. The operations are counted as the engine counts them: 2 b h s_q s_kv (d_qk + d_v)
for the forward, halved under the causal mask (the benchmark's own count; its TFLOPS column is checked against it).
The times are the CSV's medians, in milliseconds there and seconds here.
"""
import argparse
import csv
import json

# The benchmark's mask names, as causal or not.
MASKS = {"top_left": True, "no_mask": False}


def rows(path, backend, data_type, deterministic):
    passes = {}
    device = None
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["backend"], row["data_type"]) != (backend, data_type) or (row["profile_pass"] in ("bwd", "both") and row["deterministic_bwd"] != deterministic):
                continue
            if row["attn_mask"] not in MASKS or row["success"] != "True":
                continue
            shape = tuple(int(row[key]) for key in ("batch_size", "num_q_heads", "num_kv_heads", "q_seqlen", "kv_seqlen", "head_dim_qk", "head_dim_vo"))
            timed = passes.setdefault((row["attn_mask"], shape), {})
            if row["profile_pass"] in timed or (row["profile_pass"] == "both" and timed):
                raise SystemExit(f"{path}: {row['attn_mask']} {shape} is timed twice for the {row['profile_pass']} pass: keep one row")
            if row["profile_pass"] == "both":
                # The older files time both passes in one row (fwd_time_ms, bwd_time_ms, fwd_tflops).
                timed["fwd"] = {"time_ms": row["fwd_time_ms"], "tflops": row["fwd_tflops"]}
                timed["bwd"] = {"time_ms": row["bwd_time_ms"]}
            else:
                timed[row["profile_pass"]] = row
            device = {"name": row["gpu_name"], "cudnn": row["cudnn_backend_version"], "cudnn_frontend": row["cudnn_version"]}
    result = []
    for (mask, (batch, heads, kv_heads, sequence, kv_sequence, head, value_head)), timed in sorted(passes.items(), key=lambda item: (not MASKS[item[0][0]], item[0][1])):
        if "fwd" not in timed or "bwd" not in timed:
            continue
        causal = MASKS[mask]
        operations = 2 * batch * heads * sequence * kv_sequence * (head + value_head) / (2 if causal else 1)
        forward = float(timed["fwd"]["time_ms"]) / 1000
        stated = float(timed["fwd"]["tflops"]) * 1e12
        if abs(operations / forward / stated - 1) > 0.01:
            raise SystemExit(f"{path}: the forward of {mask} at sequence {sequence} counts {stated:.4g} FLOP/s, not the {operations / forward:.4g} of 2 b h s^2 (d_qk + d_v){' / 2' if causal else ''}")
        result.append({"backend": "CUDNN_ATTENTION", "batch": batch, "heads": heads, "key_value_heads": kv_heads, "sequence": sequence,
                       "head_size": head, "value_head_size": value_head, "causal": causal, "forward_operations": operations,
                       "forward_seconds": forward, "backward_seconds": float(timed["bwd"]["time_ms"]) / 1000})
    return device, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("csv")
    parser.add_argument("--backend", default="cudnn")
    parser.add_argument("--data-type", default="bfloat16")
    parser.add_argument("--deterministic", default="False", help="the backward mode to copy (default False, as Megatron-Core runs it)")
    parser.add_argument("--source", required=True, help="repository, path and commit of the CSV")
    parser.add_argument("--measured", required=True, help="when, as the source tells (its file name's date)")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()
    device, attention = rows(args.csv, args.backend, args.data_type, args.deterministic)
    if not attention:
        raise SystemExit(f"{args.csv}: no row of back end '{args.backend}' in {args.data_type} with both passes timed")
    result = {"device": {**device, "source": args.source}, "measured_utc": args.measured, "method": "published", "attention": attention}
    with open(args.out, "w") as handle:
        json.dump(result, handle, indent=1)
        handle.write("\n")


if __name__ == "__main__":
    main()

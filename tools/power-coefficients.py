"""Reproduces the memory- and matrix-energy coefficients of catalog/chips/*.yaml (power.memory_energy,
power.matrix_energy) from their inputs; docs/energy.md, "Calibration of the coefficients".

Memory energy is a chip-level figure: what a byte moved by a memory-bound kernel costs above idle, through the DRAM,
its interface, the caches, the on-chip network and the cores. Measured where a card was borrowed (measurements/,
NVML power during a sustained 1 GiB copy, read with the card's own idle):
  e_mem = (P_copy - P_idle) / copy bandwidth
Elsewhere it carries the measured cards' share of the power envelope over: a stream at the rated bandwidth draws
  F_STREAM = (P_copy - P_idle) / (limit - P_idle) / (copy bandwidth / rated bandwidth)
of the range between idle and the limit (0.761 on the H100, 0.875 on the H200, F_STREAM their mean), so
  e_mem = max(DRAM-only estimate, F_STREAM x (limit - idle) / rated bandwidth)
with the range from the DRAM-only estimate (the DRAM access alone) to the whole envelope (F = 1).

Matrix energy closes the balance at a reference training load:
  P_ref = target_fraction * power_limit
        = idle + e_mat * (u_ref * peak) + e_mem * (m_ref * hbm_bw) + e_link * (l_ref * link_egress)
  => e_mat = (P_ref - idle - e_mem*m_ref*hbm_bw - e_link*l_ref*link_egress) / (u_ref * peak)
Cross-check (GEMM at the power limit):
  e_gemm = (power_limit - idle - e_mem*0.10*hbm_bw) / R_gemm, R_gemm = measured MAMF or 0.75*peak
Units: W, TFLOPS, TB/s, pJ/B. 1 W / 1 TFLOPS = 1 pJ/FLOP; pJ/B * TB/s = W.
"""
TARGET = 0.90
M_REF, L_REF, M_GEMM = 0.30, 0.15, 0.10

# Sustained 1 GiB copies (measurements/*-2026-11-26.json, "power"): idle W, copy W, copy TB/s, rated TB/s, limit W.
COPIES = {
    "nvidia-h100-sxm": (130.607, 518.621, 11180 * 2 * 2**30 / 8.002861328125 / 1e12, 3.35, 700),
    "nvidia-h200-sxm": (123.862, 567.617, 15740 * 2 * 2**30 / 8.0009599609375 / 1e12, 4.8, 700),
}
MEASURED = {cid: (copy - idle) / rate for cid, (idle, copy, rate, _, _) in COPIES.items()}
SHARES = {cid: (copy - idle) / (limit - idle) / (rate / rated) for cid, (idle, copy, rate, rated, limit) in COPIES.items()}
F_STREAM = round(sum(SHARES.values()) / len(SHARES), 2)

# id: (limit W, idle W, peak TFLOPS of the calibration format, hbm TB/s, link egress TB/s (one direction), u_ref,
#      DRAM-only e_mem pJ/B, e_link pJ/B, gemm TFLOPS or None)
chips = {
 "nvidia-a100-sxm-80gb": (400, 85, 312, 2.039, 0.300, 0.50, 45, 40, 271.2),
 "nvidia-h100-sxm":      (700, 115, 989, 3.35, 0.450, 0.45, 38, 40, 794.5),
 "nvidia-h200-sxm":      (700, 120, 989, 4.8, 0.450, 0.45, 38, 40, 794.5),
 "nvidia-b200":          (1000, 185, 2250, 8.0, 0.900, 0.40, 38, 40, 1745.0),
 "nvidia-b300":          (1100, 190, 2250, 8.0, 0.900, 0.40, 38, 40, 1769.0),
 "nvidia-gb200":         (1200, 190, 2500, 8.0, 0.900, 0.40, 38, 40, 1822.0),
 "nvidia-gb300":         (1400, 200, 2500, 8.0, 0.900, 0.40, 38, 40, None),
 "nvidia-rubin":         (1800, 250, 4000, 22.0, 1.800, 0.40, 32, 40, None),
 "amd-mi300x":           (750, 190, 1307.4, 5.3, 0.448, 0.35, 38, 40, 668.4),
 "amd-mi325x":           (1000, 210, 1307.4, 6.0, 0.448, 0.40, 38, 40, 784.9),
 "amd-mi355x":           (1400, 240, 2516.6, 8.0, 0.5375, 0.35, 38, 40, 1565.0),
 "google-tpu-v4":        (192, 90, 275, 1.2, 0.300, 0.55, 45, 40, None),
 "google-tpu-v5e":       (120, 30, 197, 0.819, 0.200, 0.55, 45, 40, None),
 "google-tpu-v5p":       (280, 70, 459, 2.765, 0.600, 0.55, 45, 40, None),
 "google-tpu-v6e":       (330, 80, 918, 1.638, 0.400, 0.55, 38, 40, None),
 "google-tpu7x-ironwood":(700, 150, 2307, 7.37, 0.600, 0.55, 38, 40, None),
 "aws-trainium1":        (200, 50, 190, 0.88, 0.192, 0.40, 45, 40, None),
 "aws-inferentia2":      (175, 45, 190, 0.88, 0.096, 0.40, 45, 40, None),
 "aws-trainium2":        (500, 110, 667, 2.9, 0.640, 0.40, 38, 40, None),
 "aws-trainium3":        (1000, 200, 2517, 4.9, 1.280, 0.40, 38, 40, None),   # calibrated at MXFP8
 "aws-trainium4":        (1600, 300, 7551, 19.6, 1.800, 0.40, 32, 40, None),  # calibrated at FP8
}


def memory_energy(cid):
    """The chip-level energy per byte and its range, in pJ/B."""
    lim, idle, _, hbm, _, _, dram, _, _ = chips[cid]
    if cid in MEASURED:
        value = round(MEASURED[cid])
        return value, round(0.9 * value), round(1.1 * value)
    return max(dram, round(F_STREAM * (lim - idle) / hbm)), dram, max(dram, round((lim - idle) / hbm))


if __name__ == "__main__":
    print(f"stream share: {', '.join(f'{c} {s:.3f}' for c, s in SHARES.items())}; F_STREAM = {F_STREAM}")
    print(f"measured: {', '.join(f'{c} {e:.1f} pJ/B' for c, e in MEASURED.items())}")
    for cid, (lim, idle, pk, hbm, lnk, u, dram, el, gemm) in chips.items():
        em, low, high = memory_energy(cid)
        p_ref = TARGET * lim
        mem_w = em * M_REF * hbm
        link_w = el * L_REF * lnk
        e_mat = (p_ref - idle - mem_w - link_w) / (u * pk)
        r = gemm if gemm else 0.75 * pk
        e_gemm = (lim - idle - em * M_GEMM * hbm) / r
        print(f"{cid:22s} e_mem={em:4d} [{low}, {high}] Pref={p_ref:6.0f} mem={mem_w:6.1f} link={link_w:4.1f} "
              f"e_mat={e_mat:5.3f} e_gemm={e_gemm:5.3f} P(idle+HBM@100%)={idle + em * hbm:6.0f}")

"""Reproduces the matrix-energy coefficients of catalog/chips/*.yaml (power.matrix_energy) from their inputs; docs/energy.md.

Procedure (docs/energy.md, "Calibration"):
  P_ref = target_fraction * power_limit
        = idle + e_mat * (u_ref * peak_bf16) + e_mem * (m_ref * hbm_bw) + e_link * (l_ref * link_egress)
  => e_mat = (P_ref - idle - e_mem*m_ref*hbm_bw - e_link*l_ref*link_egress) / (u_ref * peak_bf16)
Cross-check (GEMM at the power limit):
  e_gemm = (power_limit - idle - e_mem*0.10*hbm_bw) / R_gemm, R_gemm = measured MAMF or 0.75*peak
Units: W, TFLOPS, TB/s, pJ/B. 1 W / 1 TFLOPS = 1 pJ/FLOP; pJ/B * TB/s = W.
"""
TARGET = 0.90
M_REF, L_REF, M_GEMM = 0.30, 0.15, 0.10
# id: (limit W, idle W, bf16 TFLOPS, hbm TB/s, link egress TB/s (one direction), u_ref, e_mem pJ/B, e_link pJ/B, gemm TFLOPS or None)
chips = {
 "nvidia-a100-sxm-80gb": (400, 85, 312, 2.039, 0.300, 0.50, 45, 40, 271.2),
 "nvidia-h100-sxm":      (700, 115, 989, 3.35, 0.450, 0.45, 38, 40, 794.5),
 "nvidia-h200-sxm":      (700, 120, 989, 4.8, 0.450, 0.45, 38, 40, 794.5),
 "nvidia-b200":          (1000, 185, 2250, 8.0, 0.900, 0.40, 38, 40, 1745.0),
 "nvidia-b300":          (1100, 190, 2250, 8.0, 0.900, 0.40, 38, 40, 1769.0),
 "nvidia-gb200":         (1200, 190, 2500, 8.0, 0.900, 0.40, 38, 40, 1822.0),
 "nvidia-gb300":         (1400, 200, 2500, 8.0, 0.900, 0.40, 38, 40, None),
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
 "aws-trainium3":        (1000, 200, 671, 4.9, 1.280, 0.40, 38, 40, None),
 "aws-trainium4":        (1600, 300, 3775.5, 19.6, 1.800, 0.40, 32, 40, None),
}
FP8 = {"nvidia-h100-sxm":1979,"nvidia-h200-sxm":1979,"nvidia-b200":4500,"nvidia-b300":4500,"nvidia-gb200":5000,"nvidia-gb300":5000,
 "amd-mi300x":2614.9,"amd-mi325x":2614.9,"amd-mi355x":5033.2,"google-tpu-v5p":459,"google-tpu-v6e":918,"google-tpu7x-ironwood":4614,
 "aws-trainium1":190,"aws-inferentia2":190,"aws-trainium2":1299,"aws-trainium3":2517,"aws-trainium4":7551}
for cid, (lim, idle, pk, hbm, lnk, u, em, el, gemm) in chips.items():
    p_ref = TARGET * lim
    mem_w = em * M_REF * hbm
    link_w = el * L_REF * lnk
    e_mat = (p_ref - idle - mem_w - link_w) / (u * pk)
    r = gemm if gemm else 0.75 * pk
    e_gemm = (lim - idle - em * M_GEMM * hbm) / r
    full_mem = idle + em * hbm
    fp8 = FP8.get(cid)
    e_fp8 = e_mat * pk / fp8 if fp8 else None
    print(f"{cid:24s} e_fp8={'-' if e_fp8 is None else round(e_fp8,2)} Pref={p_ref:6.0f} mem={mem_w:5.1f} link={link_w:4.1f} e_mat={e_mat:5.2f} e_gemm={e_gemm:5.2f} "
          f"P(idle+HBM@100%)={full_mem:5.0f} P(mat@peak)={idle+e_mat*pk:6.0f}")

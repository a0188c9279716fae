#!/usr/bin/env python3
"""Writes validation/cases/*.yaml from shared/reference/validation/published-runs.json.

Usage: python3 tools/import-published-runs.py [path/to/published-runs.json] [--output FOLDER]

Only runs whose whole configuration ClusterTwin can express are written; every other run is listed in
validation/not-yet-expressible.md with the reason. With --output (supplementary runs in the same schema, such as
validation/supplementary/megatron-bridge-25.11.json) the cases go to that folder instead, each training case marked not_fitted (and a mixture of
experts not_framework_fitted, a check of the launch times the published runs fit), and the runs not expressible are listed at the end of the
folder's README.md. Serving cases carry no marker: they are out of every fit because clustertwin calibrate-serving reads validation/cases/ alone. The generated files are data: review them
like any other data change. Each keeps the run's id, its source and exactly the configuration the source published.
"""
import argparse
import json
import os
import re

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
DEFAULT = os.path.join(ROOT, "..", "shared", "reference", "validation", "published-runs.json")

# How each published hardware setup maps to a catalogue system and fabric.
A100_SELENE = ("nvidia-dgx-a100", "infiniband-hdr-fat-tree")
A100_MOSAIC = ("nvidia-dgx-a100", "ethernet-spectrum-x-clos")  # 8 x 200 Gb/s RoCE per node (1600 Gbps)

H100_EOS = ("nvidia-dgx-h100", "infiniband-ndr-fat-tree")
B200_DGX = ("nvidia-dgx-b200", "infiniband-ndr-fat-tree")
GB200_RACK = ("nvidia-gb200-nvl72", "infiniband-ndr-fat-tree")   # the table does not name the scale-out network
GB300_RACK = ("nvidia-gb300-nvl72", "infiniband-xdr-fat-tree")
TRN1 = ("aws-trn1-32xlarge", "aws-efa-ultracluster")

MODELS = {
    "GPT3-175B (NeMo)": "gpt3-175b", "GPT-3 175B": "gpt3-175b",
    "Llama 2 7B": "llama2-7b", "Llama 2 13B": "llama2-13b", "Llama 2 70B": "llama2-70b",
    "Llama 3 8B": "llama3-8b", "Llama 3 70B": "llama3-70b", "Llama 3.1 8B": "llama3-8b", "Llama 3.1 70B": "llama3-70b", "Llama 3.1 405B": "llama3-405b",
    "GPT 22B (Megatron)": "megatron-22b", "GPT-3 175B (Megatron)": "megatron-175b", "GPT 175B (Megatron)": "megatron-175b",
    "GPT 530B (Megatron)": "megatron-530b", "GPT 1T (Megatron)": "megatron-1t",
    "MPT-7b": "mpt-7b", "MPT-13b": "mpt-13b", "MPT-30b": "mpt-30b", "MPT-70b": "mpt-70b",
    "Qwen3-30B-A3B": "qwen3-30b-a3b", "Qwen3-235B-A22B": "qwen3-235b-a22b", "DeepSeek-V3 671B": "deepseek-v3",
    "GPT-OSS 120B": "gpt-oss-120b", "Mixtral 8x7B": "mixtral-8x7b", "Mixtral 8x22B": "mixtral-8x22b",
    # The published set leaves these vocabularies out; the model files give them with their sources.
    "GPT3-5B (NeMo)": "gpt3-5b-nemo", "GPT3-20B (NeMo)": "gpt3-20b-nemo",
    "Nemotron-3 8B": "nemotron3-8b", "Nemotron-3 22B": "nemotron3-22b", "Nemotron-4 15B": "nemotron4-15b", "Nemotron-4 340B": "nemotron4-340b",
}

# Settings of the Megatron-Bridge 25.11 performance recipes the tables do not list, read from NVIDIA-NeMo/Megatron-Bridge
# scripts/performance/configs/{llama3,qwen3,deepseek}/workload_base_configs.py and the builders beside them (commits
# 0fa501ac, 767255d2 and d19cb73c, late 2025; notes in the case files). The dispatchers: "alltoall"
# (NCCL) unless the recipe names a flex backend (DeepEP or HybridEP, both deduplicated).
MBRIDGE_RECIPES = {
    # Llama 3 70B in FP8-CS on GB200 and GB300: Megatron FSDP at micro-batch 2 with CPU activation offloading
    # (scripts/performance/configs/llama3/workload_base_configs.py @ 0fa501ac, LLAMA3_70B_{GB200,GB300}_FP8_CS_BASE_CONFIG).
    "mbridge2511-gb200-llama3-70b-64gpu-fp8-cs": {"plan": {"offload_activations": 40},
        "why": "LLAMA3_70B_GB200_FP8_CS_BASE_CONFIG: Megatron FSDP, micro-batch 2, cpu_offloading_num_layers=40: the first 40 layers' activations offloaded to the Grace CPU's memory (llama3 workload_base_configs.py @ 0fa501ac; its GBS 128 where the table says 256: the table kept)"},
    "mbridge2511-gb300-llama3-70b-64gpu-fp8-cs": {"plan": {"offload_activations": 20},
        "why": "LLAMA3_70B_GB300_FP8_CS_BASE_CONFIG: Megatron FSDP, micro-batch 2, cpu_offloading_num_layers=20: the first 20 layers' activations offloaded to the Grace CPU's memory (llama3 workload_base_configs.py @ 0fa501ac; its GBS 128 where the table says 256: the table kept)"},
    "mbridge2511-h100-qwen3_30b_a3b-16gpu-fp8-cs": {"plan": {"expert_dispatch": "all-to-all", "overlap_expert_communication": "true"},
        "why": "moe_a2a_overlap=True with the alltoall dispatcher (qwen3 workload_base_configs.py @ 767255d2; the code has VP12 where the table says 24: the table kept)"},
    "mbridge2511-h100-qwen3_235b_a22b-256gpu-fp8-cs": {"plan": {"expert_dispatch": "all-to-all", "overlap_expert_communication": "true"},
        "why": "moe_a2a_overlap=True with the alltoall dispatcher (qwen3 workload_base_configs.py @ 767255d2)"},
    "mbridge2511-b200-qwen3_235b_a22b-64gpu-fp8-mx": {"plan": {"expert_dispatch": "all-to-all", "overlap_expert_communication": "true"},
        "why": "moe_a2a_overlap=True with the alltoall dispatcher (qwen3 workload_base_configs.py @ 767255d2)"},
    "mbridge2511-gb200-qwen3_235b_a22b-256gpu-bf16": {"plan": {"expert_dispatch": "deduplicated"},
        "why": "the flex dispatcher with HybridEP, no all-to-all overlap (qwen3 builder @ 767255d2; the row's PP8 VP3 EP32 matches no stored config)"},
    "mbridge2511-gb200-deepseekv3-256gpu-bf16": {"plan": {"recompute": "[mla_up_proj]", "first_stage_layers": 15, "last_stage_layers": 14, "expert_dispatch": "deduplicated"}, "training": {"multi_token_prediction": "false"},
        "why": "layout Et*3|(t*4|)*14ttL: 15, 16, 16, 14 layers per rank; HybridEP, no all-to-all overlap; selective recompute of mla_up_proj (the latent up-projections); no multi-token prediction, '(w/o MTP)' in the table (deepseek workload_base_configs.py and deepseek_llm_pretrain.py @ d19cb73c)"},
    "mbridge2511-gb200-deepseekv3-256gpu-fp8-mx": {"plan": {"recompute": "[mla_up_proj]", "first_stage_layers": 7, "last_stage_layers": 6, "expert_dispatch": "deduplicated"}, "training": {"multi_token_prediction": "false"},
        "why": "the row's PP8 VP4 EP32 matches no stored config: 7, 8, ..., 8, 6 layers per rank assumed (the embedding and the loss each in the place of a layer, as the 16-chunk layout of the PP4 run); selective recompute of mla_up_proj, as the GB200 base config gives every precision; HybridEP, no all-to-all overlap, no multi-token prediction ('w/o MTP') (deepseek workload_base_configs.py @ d19cb73c)"},
    "mbridge2511-gb300-deepseekv3-256gpu-fp8-mx": {"plan": {"first_stage_layers": 31, "last_stage_layers": 30, "expert_dispatch": "deduplicated"}, "training": {"multi_token_prediction": "false"},
        "why": "31 and 30 layers per rank assumed (the builder's 16-chunk layout does not fit PP2 VP4); HybridEP, no all-to-all overlap, no recompute, no multi-token prediction ('w/o MTP') (deepseek configs @ d19cb73c)"},
    # The supplementary rows of the same table (validation/supplementary/megatron-bridge-25.11.json).
    "mbridge2511-gb300-deepseekv3-256gpu-bf16": {"plan": {"first_stage_layers": 31, "last_stage_layers": 30, "expert_dispatch": "deduplicated"}, "training": {"multi_token_prediction": "false"},
        "why": "DEEPSEEK_V3_GB300_BASE_CONFIG, one config for every precision, as the row: PP2 VP4 EP32, HybridEP, moe_a2a_overlap False, recompute_modules [] (no recompute), CUDA graphs over attention, router and preprocessing (not modelled); mtp_num_layers None ('w/o MTP'); the builder's layout Et*3|(t*4|)*14ttL has 16 chunks, 31 and 30 layers on two ranks (it would make VP 8: the table's VP4 kept, as in the FP8-MX case) (deepseek workload_base_configs.py and deepseek_llm_pretrain.py @ d19cb73c)"},
    "mbridge2511-b200-deepseekv3-256gpu-fp8-mx": {"plan": {"recompute": "[mla_up_proj]", "first_stage_layers": 4, "last_stage_layers": 1, "expert_dispatch": "all-to-all"}, "training": {"multi_token_prediction": "true"},
        "why": "DEEPSEEK_V3_B200_BASE_CONFIG, one config for every precision, as the row: PP16 EP8 GBS 2048, selective recompute of mla_up_proj, moe_a2a_overlap False, no flex backend (the alltoall dispatcher) (deepseek workload_base_configs.py and deepseek_llm_pretrain.py @ d19cb73c); the builder passes no layout and no mtp_num_layers, so the recipe's one MTP layer ('w/ MTP' in the archive's copy of the row) and its (16, 1) layout: embedding and 4 layers, 14 ranks of 4, 1 layer with the MTP module and the loss (recipes/deepseek/deepseek_v3.py layout_map, read @ 05d003fb, the same map in every stored version)"},
    "mbridge2511-gb300-qwen3_30b_a3b-8gpu-fp8-mx": {"plan": {"expert_dispatch": "all-to-all"},
        "why": "QWEN3_30B_A3B_GB300_FP8_MX_BASE_CONFIG (the FP8-CS one): EP8 GBS 512, no flex backend (the alltoall dispatcher), no all-to-all overlap, no recompute (set_qwen3_common_configs); CUDA graphs over attention, router and preprocessing, not modelled; the config's MBS 8 where the table says 4: the table kept (qwen3 workload_base_configs.py and qwen3_llm_pretrain.py @ 767255d2)"},
    "mbridge2511-gb200-qwen3_30b_a3b-8gpu-fp8-mx": {"plan": {"expert_dispatch": "all-to-all"},
        "why": "QWEN3_30B_A3B_GB200_FP8_MX_BASE_CONFIG (the FP8-CS one), as the row: EP8 GBS 512 MBS 4, no flex backend (the alltoall dispatcher), no all-to-all overlap, no recompute (set_qwen3_common_configs); CUDA graphs over attention, router and preprocessing, not modelled (qwen3 workload_base_configs.py and qwen3_llm_pretrain.py @ 767255d2)"},
    "mbridge2511-b200-qwen3_30b_a3b-8gpu-fp8-mx": {"plan": {"expert_dispatch": "all-to-all"},
        "why": "QWEN3_30B_A3B_B200_FP8_MX_BASE_CONFIG (the FP8-CS one), as the row: EP8 GBS 512 MBS 1, no flex backend (the alltoall dispatcher), no all-to-all overlap, no recompute (set_qwen3_common_configs); CUDA graphs over attention, router and preprocessing, not modelled (qwen3 workload_base_configs.py and qwen3_llm_pretrain.py @ 767255d2)"},
    "mbridge2511-gb300-qwen3_235b_a22b-256gpu-bf16": {"plan": {"expert_dispatch": "deduplicated"},
        "why": "the row's 256 GPUs at PP4 VP12 EP16 MBS 2 match no stored config (the GB300 BF16 one is 64 GPUs at TP2 EP64 MBS 4): its flex dispatcher with HybridEP, no all-to-all overlap, assumed as for the GB200 row; no recompute (set_qwen3_common_configs) (qwen3 workload_base_configs.py and qwen3_llm_pretrain.py @ 767255d2)"},
    # GPT-OSS 120B in BF16 (scripts/performance/configs/gpt_oss/workload_base_configs.py and gpt_oss_llm_pretrain.py @
    # 6b296ac1, the BF16 configs of PR #1438 "fix GPT-OSS perf scripts", 2025-11-20, cherry-picked for the 25.11 release:
    # the nearest stored version). set_gpt_oss_common_configs: sequence 8192, grad_reduce_in_fp32 False, router fusion,
    # forced load balancing; the model's alltoall dispatcher, no all-to-all overlap, no tensor parallelism.
    "mbridge2511-gb300-gpt-oss-120b-64gpu-bf16": {"plan": {"expert_dispatch": "all-to-all"},
        "why": "GPT_OSS_120B_GB300_BF16 config: EP64, the alltoall dispatcher, no all-to-all overlap, no recompute; CUDA graphs over attention, router and preprocessing (not modelled); the config's MBS 4 where the table says 2: the table kept (gpt_oss workload_base_configs.py @ 6b296ac1)"},
    "mbridge2511-gb200-gpt-oss-120b-64gpu-bf16": {"plan": {"expert_dispatch": "all-to-all", "recompute": "[layernorm, moe_act]"},
        "why": "GPT_OSS_120B_GB200_BF16 config, as the row: EP64 MBS 1 GBS 1280 at 8,192 tokens, the alltoall dispatcher, no all-to-all overlap, recompute_modules layernorm and moe_act, no CUDA graphs (gpt_oss workload_base_configs.py @ 6b296ac1)"},
    "mbridge2511-b200-gpt-oss-120b-64gpu-bf16": {"plan": {"expert_dispatch": "all-to-all", "recompute": "[layernorm, moe_act]"},
        "why": "GPT_OSS_120B_B200_BF16 config: the alltoall dispatcher, no all-to-all overlap, recompute_modules layernorm and moe_act, no CUDA graphs; the config's EP64 GBS 1280 at 8,192 tokens where the table says EP8 GBS 512 at 4,096 (the earlier configs' EP8 and the recipe's 4,096 tokens): the table kept (gpt_oss workload_base_configs.py @ 6b296ac1)"},
    "mbridge2511-h100-gpt-oss-120b-64gpu-bf16": {"plan": {"expert_dispatch": "all-to-all", "recompute": "[layernorm, moe_act]"},
        "why": "GPT_OSS_120B_H100_BF16 config: PP4 EP8, the alltoall dispatcher, no all-to-all overlap, recompute_modules layernorm and moe_act, no CUDA graphs; the config's MBS 1 GBS 1280 at 8,192 tokens where the table says MBS 4 GBS 512 at 4,096: the table kept (gpt_oss workload_base_configs.py @ 6b296ac1)"},
}

# Settings of NeMo 2.0's performance scripts (NVIDIA/NeMo scripts/performance) for the rows of the NeMo 25.02 and 25.04
# performance summaries (validation/supplementary/nemo-2.0.json): each model's row of recommended_model_configs/
# model_configs_{b200,gb200}.csv (read @ 9a86f673 and 026c682e for B200, 07ed46e0 and 06c0e700 for GB200; the rows
# that match a published layout name the version), the pretrain_*.py script and the recipe's performance mode. Under
# FP8 every row runs without recompute or offloading; tensor-parallel communication overlap is on wherever TP > 1
# except in the Mixtral recipes, which never ask for it (MegatronCommOverlapCallback's default is off); the scripts
# reduce gradients in BF16 under FP8 (grad_reduce_in_fp32 = False). The CSV's cuda_graphs 1 is Megatron-Core's
# enable_cuda_graph, whole layers (cuda_graphs: layers): the model charges dense layers no launches, so it changes
# only the mixtures of experts, whose drop-and-pad layers it can capture. The Mixtral recipes add MegatronTokenDropCallback (capacity factor 1.0, inputs padded to capacity:
# every expert computes its average share, so the routing's skew is cut off) over MixtralConfig's alltoall dispatcher
# and aux-loss routing. Context parallelism takes Megatron-Core's default exchange (cp_comm_type p2p: the ring).
def recipe_entry(why, plan=None, training=None, token_drop=None):
    """A recipe entry: plan and training settings, why, and the callback or helper that drops and pads tokens (None: dropless)."""
    return {"plan": plan or {}, "training": training or {}, "why": why, **({"token_drop": token_drop} if token_drop else {})}


TOKEN_DROP = "MegatronTokenDropCallback"
WHOLE_LAYERS = {"cuda_graphs": "layers    # the CSV's cuda_graphs 1: enable_cuda_graph"}
# The Mixtral recipes leave moe_permute_fusion at Megatron-Core's default, off: the unfused PyTorch permutation.
UNFUSED = {"fused_token_permutation": "false    # moe_permute_fusion unset in the Mixtral recipes: Megatron-Core's default, off"}
MIXTRAL_8X7B = recipe_entry("model_configs CSV row pre_train mixtral 8x7b (every stored version): TP1 PP1 CP1 VP1 EP8 MBS 2 GBS 256, no recompute, no FSDP, "
                     "cuda_graphs 1 (whole layers as CUDA graphs, which the experts' inputs padded to capacity make static); the alltoall "
                     "dispatcher, aux-loss routing with token dropping at capacity factor 1.0 and padding (MegatronTokenDropCallback)",
                     {"expert_dispatch": "all-to-all"}, {**WHOLE_LAYERS, **UNFUSED}, token_drop=TOKEN_DROP)
MIXTRAL_8X22B = recipe_entry("model_configs_b200.csv row pre_train mixtral 8x22b (every stored version): TP2 PP4 CP8 VP14 EP8 ETP1 MBS 1 GBS 64, no "
                      "recompute, no FSDP, no CUDA graphs; no tensor-parallel communication overlap (MegatronCommOverlapCallback's default, which "
                      "the Mixtral scripts keep); the context ring (Megatron-Core's default p2p exchange); the alltoall dispatcher, aux-loss "
                      "routing with token dropping at capacity factor 1.0 and padding (MegatronTokenDropCallback)",
                      {"expert_dispatch": "all-to-all", "overlap_tensor_communication": "false", "context_communication": "ring"}, UNFUSED, token_drop=TOKEN_DROP)
NEMO2_RECIPES = {
    "nemo2502-b200-gpt3-175b-512gpu-fp8": recipe_entry("model_configs_b200.csv row pre_train gpt3 175b, 512 GPUs (@ 9a86f673 and 026c682e): TP4 PP4 VP6 MBS 2, cuda_graphs 0; tensor-parallel overlap with userbuffers_fp8_b200_h12288_tp4_mbs1_seqlen2048; embedding weight gradients deferred (not modelled)"),
    "nemo2502-b200-llama3-8b-8gpu-fp8": recipe_entry("model_configs_b200.csv row pre_train llama3 8b (every stored version): TP1 PP1 CP1 MBS 2; CUDA graphs on in the newer scripts and off in an older one (no effect on a dense layer in the model)"),
    "nemo2502-b200-llama3-70b-64gpu-fp8": recipe_entry("model_configs_b200.csv row pre_train llama3 70b (@ 9a86f673, 026c682e and the older path): TP2 PP4 CP2 VP5 MBS 1, cuda_graphs 1; tensor-parallel overlap with userbuffers_fp8_b200_h8192_tp2_mbs1_seqlen8192; the context ring", training=WHOLE_LAYERS),
    "nemo2502-b200-llama3.1-405b-128gpu-fp8": recipe_entry("model_configs_b200.csv row pre_train llama31 405b, 128 GPUs (@ 9a86f673 and 026c682e): TP4 PP8 CP2 VP8 MBS 1, cuda_graphs 0; tensor-parallel overlap with userbuffers_fp8_b200_h16384_tp4_cp2_mbs1_seqlen8192; the context ring"),
    "nemo2502-b200-nemotron4-15b-64gpu-fp8": recipe_entry("model_configs_b200.csv row pre_train nemotron4 15b (every stored version): TP1 PP1 MBS 2, cuda_graphs 1", training=WHOLE_LAYERS),
    "nemo2502-b200-nemotron4-340b-128gpu-fp8": recipe_entry("model_configs_b200.csv row pre_train nemotron4 340b (every stored version): TP8 PP4 VP12 MBS 1; tensor-parallel overlap; CUDA graphs on or off by script version (no effect on a dense layer in the model)"),
    "nemo2502-h100-gpt3-175b-512gpu-fp8": recipe_entry("the GPT-3 175B script's settings as for B200 (TP4 tensor-parallel overlap, no recompute); its H100 CSV row was not read"),
    # The older CSVs, perhaps 25.02's, have no cuda_graphs column: no graphs claimed (no effect either way, each chip's
    # one expert multiplying for milliseconds).
    "nemo2502-b200-mixtral-8x7b-64gpu-fp8": recipe_entry(MIXTRAL_8X7B["why"].replace("cuda_graphs 1 (whole layers as CUDA graphs, which the experts' inputs padded to capacity make static)",
                                                                              "cuda_graphs 1 where the CSV has the column (whole layers as CUDA graphs; the older CSVs have none, so none is assumed)"),
                                                  MIXTRAL_8X7B["plan"], UNFUSED, token_drop=TOKEN_DROP),
    "nemo2502-b200-mixtral-8x22b-256gpu-fp8": MIXTRAL_8X22B,
    "nemo2504-gb200-gpt3-175b-128gpu-fp8": recipe_entry("model_configs_gb200.csv row pre_train gpt3 175b (@ 07ed46e0 and 06c0e700): TP4 PP4 VP12 MBS 2, cuda_graphs 1; tensor-parallel overlap with the B200 FP8 userbuffer configuration", training=WHOLE_LAYERS),
    "nemo2504-gb200-llama3-8b-8gpu-fp8": recipe_entry("model_configs_gb200.csv row pre_train llama3 8b: MBS 2 only in the older path's file (@ 215b51ee; the newer files have MBS 4: the table kept); CUDA graphs by script version (no effect on a dense layer in the model)"),
    "nemo2504-gb200-llama3-70b-64gpu-fp8": recipe_entry("model_configs_gb200.csv row pre_train llama3 70b (@ 07ed46e0 and 06c0e700): Megatron FSDP (use_mcore_fsdp 1) at TP1 PP1 MBS 1, cuda_graphs 0, no recompute under FP8"),
    "nemo2504-gb200-llama3.1-405b-128gpu-fp8": recipe_entry("model_configs_gb200.csv row pre_train llama31 405b as @ 07ed46e0 (06c0e700 has TP2, FSDP and 95 offloaded layers instead): TP4 PP8 CP2 VP8 MBS 1, cuda_graphs 0; tensor-parallel overlap; the context ring"),
    "nemo2504-gb200-nemotron4-15b-64gpu-fp8": recipe_entry("model_configs_gb200.csv row pre_train nemotron4 15b (@ 07ed46e0 and 06c0e700): TP1 PP1 MBS 2, cuda_graphs 1", training=WHOLE_LAYERS),
    "nemo2504-gb200-nemotron4-340b-128gpu-fp8": recipe_entry("model_configs_gb200.csv row pre_train nemotron4 340b (@ 07ed46e0 and 06c0e700): TP8 PP4 VP12 MBS 1, cuda_graphs 1; tensor-parallel overlap with userbuffers_fp8_b200_h18432_tp8_mbs1_seqlen4096", training=WHOLE_LAYERS),
    "nemo2504-gb200-mixtral-8x7b-64gpu-fp8": MIXTRAL_8X7B,
    # No GB200 row for Mixtral 8x22B in any stored model_configs_gb200.csv: the B200 row's settings, the same layout.
    "nemo2504-gb200-mixtral-8x22b-256gpu-fp8": recipe_entry(MIXTRAL_8X22B["why"] + "; no GB200 row of this model in any stored model_configs_gb200.csv: the B200 row's settings, the table's layout",
                                                     MIXTRAL_8X22B["plan"], UNFUSED, token_drop=TOKEN_DROP),
}
# Settings of the Megatron-Bridge performance scripts behind the 25.09 table (validation/supplementary/
# megatron-bridge-25.09.json), read from NVIDIA-NeMo/Megatron-Bridge scripts/performance/ as it stood then: run_script.py
# (the version whose DeepSeek-V3 pp_vp_map is the table's, {"h100": (8, 4), "b200": (16, 1), "gb200": (4, 4)}, between
# commits 2a932de and 45eda8d), configs/<model>/*_llm_pretrain.yaml (perf_matrix per GPU) and the recipes. Qwen3 runs
# apply_moe_token_drop (capacity 1.0, padded) on every GPU; DeepSeek-V3 on B200 and GB200 too, and on H100 runs dropless
# with DeepEP, forced balancing and the 1F1B all-to-all overlap (PR #669, "Malay/dsv3 2509", label r0.1.0). The yaml's
# cuda_graphs: true is enable_cuda_graph (whole layers). The table's FP8 recipe is not stated; the scripts' default is
# per-tensor delayed scaling, and the H100 Qwen3-30B row's micro-batch 2 exists only under current scaling: ClusterTwin's
# fp8 either way.
APPLY_TOKEN_DROP = "apply_moe_token_drop"
YAML_GRAPHS = {"cuda_graphs": "layers    # the perf_matrix yaml's cuda_graphs: true: enable_cuda_graph"}
MBRIDGE2509_RECIPES = {
    "mbridge2509-gb200-llama3-8b-8gpu-fp8": recipe_entry("llama3_8b_llm_pretrain.yaml @ 0aa7db37, gb200 num_gpus_8: TP1 PP1 CP1 MBS 2 GBS 128, cuda_graphs true (no effect on a dense layer in the model)", training=YAML_GRAPHS),
    "mbridge2509-gb200-llama3-70b-64gpu-fp8": recipe_entry("llama3_70b_llm_pretrain.yaml @ 0aa7db37, gb200 fp8_cs: Megatron FSDP at TP1 PP1 VP1 (its MBS 1 where the table says 2: the table kept), no CUDA graphs, no recompute"),
    "mbridge2509-gb200-llama3.1-405b-128gpu-fp8": recipe_entry("llama31_405b_llm_pretrain.yaml @ 45eda8d3 (a later version, the nearest stored), gb200 num_gpus_128 fp8_cs: Megatron FSDP at TP2 PP1 CP1, cpu_offloading_num_layers 80 (the first 80 layers' activations to the Grace CPUs' memory), no CUDA graphs; tensor-parallel overlap from the helpers' COMM_OVERLAP_CONFIG_MAP", {"offload_activations": 80}),
    "mbridge2509-gb200-deepseekv3-256gpu-fp8": recipe_entry("deepseek_v3_llm_pretrain.yaml @ 2a932de8 gb200 num_gpus_256 and run_script's pp_vp_map (4, 4): TP1 PP4 VP4 EP64 GBS 2048, no CUDA graphs; apply_moe_token_drop (capacity 1.0, padded), the alltoall dispatcher, no all-to-all overlap, no forced balancing; selective recompute of mla_up_proj; one multi-token prediction layer placed by the recipe's layout_map[(4, 4)]: the embedding and 4 layers, 14 chunks of 4, 1 layer with the MTP module and the loss, so 16, 16, 16 and 13 layers per rank (recipes/deepseek/deepseek_v3.py @ 05d003fb)",
                                                    {"recompute": "[mla_up_proj]", "first_stage_layers": 16, "last_stage_layers": 13, "expert_dispatch": "all-to-all"}, {"multi_token_prediction": "true"}, APPLY_TOKEN_DROP),
    "mbridge2509-gb200-qwen3_30b_a3b-8gpu-fp8": recipe_entry("qwen3_30b_a3b_llm_pretrain.yaml, gb200: EP8 MBS 4 (as the forks' copies at 7919cbae and 9d6ead18; upstream @ 48b5204a has MBS 1: the table kept), cuda_graphs true; apply_moe_token_drop on every GPU, the alltoall dispatcher, no all-to-all overlap, no recompute",
                                                      {"expert_dispatch": "all-to-all"}, YAML_GRAPHS, APPLY_TOKEN_DROP),
    "mbridge2509-gb200-qwen3_235b_a22b-64gpu-fp8": recipe_entry("qwen3_235b_a22b_llm_pretrain.yaml @ 60ecd1d9, gb200 num_gpus_64: TP2 PP1 EP64 MBS 1 GBS 1024, cuda_graphs true; apply_moe_token_drop, the alltoall dispatcher, no all-to-all overlap, no recompute; tensor-parallel overlap (CommOverlapConfig(tp_comm_overlap=True))",
                                                         {"expert_dispatch": "all-to-all"}, YAML_GRAPHS, APPLY_TOKEN_DROP),
    "mbridge2509-b200-llama3-8b-8gpu-fp8": recipe_entry("llama3_8b_llm_pretrain.yaml @ 0aa7db37, b200 num_gpus_8: TP1 PP1 CP1 MBS 2 GBS 128, cuda_graphs true (no effect on a dense layer in the model)", training=YAML_GRAPHS),
    "mbridge2509-b200-llama3.1-405b-128gpu-fp8": recipe_entry("llama31_405b_llm_pretrain.yaml @ 45eda8d3, b200: TP4 PP8 CP2 VP8 GBS 64, no CUDA graphs; tensor-parallel overlap; the context ring"),
    "mbridge2509-b200-deepseekv3-256gpu-fp8": recipe_entry("deepseek_v3_llm_pretrain.yaml @ 2a932de8 b200 num_gpus_256 and run_script's pp_vp_map (16, 1): TP1 PP16 EP8 GBS 2048, no CUDA graphs; apply_moe_token_drop, the alltoall dispatcher, no all-to-all overlap, no forced balancing; selective recompute of mla_up_proj; one multi-token prediction layer placed by layout_map[(16, 1)]: the embedding and 4 layers, 14 ranks of 4, 1 layer with the MTP module and the loss",
                                                    {"recompute": "[mla_up_proj]", "first_stage_layers": 4, "last_stage_layers": 1, "expert_dispatch": "all-to-all"}, {"multi_token_prediction": "true"}, APPLY_TOKEN_DROP),
    "mbridge2509-b200-qwen3_30b_a3b-8gpu-fp8": recipe_entry("qwen3_30b_a3b_llm_pretrain.yaml, b200: PP1 EP8 MBS 1 (as the copies at 22a838d7 and 9d6ead18), cuda_graphs true; apply_moe_token_drop, the alltoall dispatcher, no all-to-all overlap, no recompute",
                                                     {"expert_dispatch": "all-to-all"}, YAML_GRAPHS, APPLY_TOKEN_DROP),
    "mbridge2509-b200-qwen3_235b_a22b-64gpu-fp8": recipe_entry("qwen3_235b_a22b_llm_pretrain.yaml @ 11d3a36e, b200: PP8 VP2 EP8 MBS 1 GBS 1024, no CUDA graphs; apply_moe_token_drop, the alltoall dispatcher, no all-to-all overlap, no recompute",
                                                        {"expert_dispatch": "all-to-all"}, token_drop=APPLY_TOKEN_DROP),
    "mbridge2509-h100-llama3-8b-8gpu-fp8": recipe_entry("llama3_8b_llm_pretrain.yaml @ 0aa7db37, h100 fp8: Megatron FSDP at TP1 CP1 with NCCL user buffers (not modelled), no CUDA graphs"),
    "mbridge2509-h100-llama3-70b-64gpu-fp8": recipe_entry("llama3_70b_llm_pretrain.yaml @ 0aa7db37, h100 fp8: TP4 PP8 VP5, no CUDA graphs; tensor-parallel overlap with the H100 TP4 userbuffer configuration"),
    "mbridge2509-h100-llama3.1-405b-1024gpu-fp8": recipe_entry("llama31_405b_llm_pretrain.yaml @ 45eda8d3, h100 num_gpus_1024: TP8 PP8 CP2 VP8 GBS 512, no CUDA graphs; tensor-parallel overlap; the context ring"),
    "mbridge2509-h100-deepseekv3-1024gpu-fp8": recipe_entry("deepseek_v3_llm_pretrain.yaml @ 2a932de8 h100 num_gpus_1024 and run_script's pp_vp_map (8, 4) with layout Et|(tt|)*30mL: the embedding and 1 layer, 30 chunks of 2, the MTP module and the loss alone, so 7, 8, ..., 8 and 6 layers per rank; dropless with DeepEP (the flex dispatcher), forced balancing, the 1F1B all-to-all overlap with delayed weight gradients, no data-parallel overlap (overlap_grad_reduce False), no tensor-parallel overlap (the recipe's CommOverlapConfig(tp_comm_overlap=False)), selective recompute of mla_up_proj and mlp, no CUDA graphs",
                                                     {"recompute": "[mla_up_proj, mlp]", "first_stage_layers": 7, "last_stage_layers": 6, "expert_dispatch": "deduplicated", "overlap_expert_communication": "true",
                                                      "overlap_gradient_reduction": "false", "overlap_tensor_communication": "false"}, {"multi_token_prediction": "true"}),
    "mbridge2509-h100-qwen3_30b_a3b-16gpu-fp8": recipe_entry("qwen3_30b_a3b_llm_pretrain.yaml, h100 fp8_cs: PP2 VP24 EP8 MBS 2 (MBS 2 only under current scaling, in every copy with VP24), no CUDA graphs; apply_moe_token_drop, the alltoall dispatcher, no all-to-all overlap, no recompute",
                                                      {"expert_dispatch": "all-to-all"}, token_drop=APPLY_TOKEN_DROP),
    "mbridge2509-h100-qwen3_235b_a22b-256gpu-fp8": recipe_entry("qwen3_235b_a22b_llm_pretrain.yaml (every stored version), h100: TP2 PP8 VP4 EP32 GBS 2048, no CUDA graphs; apply_moe_token_drop, the alltoall dispatcher, no all-to-all overlap, no recompute; tensor-parallel overlap",
                                                         {"expert_dispatch": "all-to-all"}, token_drop=APPLY_TOKEN_DROP),
}
RECIPES = {**MBRIDGE_RECIPES, **NEMO2_RECIPES, **MBRIDGE2509_RECIPES}


def korthikanti(run):
    training, model = run["training"], run["model"]
    full = "full" in training["activation_recompute"]
    return {
        "source_key": "korthikanti-2022",
        "measured": f"step_time: {run['result']['step_time_s']} s",
        "system": A100_SELENE, "systems": run["hardware"]["count"] // 8,
        "model": MODELS[model["name"]], "sequence": model["seq_len"], "batch": training["global_batch_seqs"],
        "precision": "fp16", "attention": "standard      # Megatron-LM 2022: batched matrix multiplies, fused softmax, no FlashAttention",
        "dropout": "true",
        "plan": {"tensor": training["tp"], "pipeline": training["pp"], "data": training["dp"], "virtual_stages": training["vp"] or 1,
                 "micro_batch": training["micro_batch"], "sequence_parallel": "true" if training["sequence_parallel"] else "false",
                 "recompute": "full" if full else "selective", "zero": 0,
                 # Megatron-LM 2022's interleaved schedule sends and receives in batched, blocking calls; the overlap of
                 # pipeline sends with the next chunk (overlap_p2p_comm) came with Megatron-Core in 2023.
                 **({"overlap_pipeline_communication": "false"} if (training["vp"] or 1) > 1 and training["pp"] > 1 else {})},
    }


def mosaic(run):
    training, model = run["training"], run["model"]
    full = "full" in training["activation_recompute"]
    # The table's "MP mode" column: Composer's PURE reduces gradients in the run's precision (the framework's default,
    # bf16); DEFAULT reduces them in FP32 (composer/distributed/mosaic_parallelism.py, get_mixed_precision).
    mixed = re.search(r"MP mode (\w+)", training["notes"] or "")
    reduction = {"gradient_reduction": "fp32    # the table's MP mode DEFAULT: Composer reduces in FP32"} if mixed and mixed.group(1) == "DEFAULT" else {}
    return {
        "source_key": "mosaicml-llm-foundry",
        "measured": f"tokens_per_second_per_chip: {run['result']['tokens_per_s_per_device']}",
        "system": A100_MOSAIC, "systems": run["hardware"]["count"] // 8,
        "model": MODELS[model["name"]], "sequence": model["seq_len"], "batch": training["global_batch_seqs"],
        "precision": "bf16", "attention": "flash         # llm-foundry's Triton/FlashAttention kernel", "dropout": "false",
        "training_extra": {"framework": "pytorch-fsdp    # Composer over PyTorch FSDP (catalog/training-frameworks)", **reduction},
        "plan": {"tensor": 1, "pipeline": 1, "data": training["dp"], "virtual_stages": 1, "micro_batch": training["micro_batch"],
                 "sequence_parallel": "false", "recompute": "full" if full else "none", "zero": 3},
    }


def nvidia(run, source_key):
    """NeMo 24.07 and Megatron-Bridge performance tables: FP8 Transformer Engine, the recipes' defaults, and for
    runs in it the recipe settings of RECIPES."""
    case = nvidia_defaults(run, source_key)
    if source_key.startswith("megatron-bridge") and case["precision"] == "nvfp4" and case["plan"].get("overlap_tensor_communication") == "true":
        # The builders turn tensor-parallel communication overlap off under NVFP4: cfg.comm_overlap.tp_comm_overlap =
        # False if precision == "nvfp4" (scripts/performance/configs/llama/llama31_llm_pretrain.py and the others).
        case["plan"]["overlap_tensor_communication"] = "false"
        case["assumptions"][0] = case["assumptions"][0].replace(", tensor-parallel communication overlap", "")
        case["assumptions"].append("no tensor-parallel communication overlap: the performance builders turn it off under NVFP4 (cfg.comm_overlap.tp_comm_overlap = False if precision == \"nvfp4\", in every stored version of Megatron-Bridge's scripts/performance/configs/llama/llama31_llm_pretrain.py that builds NVFP4)")
    if source_key.startswith("megatron-bridge"):
        # Every Megatron-Bridge performance builder reduces gradients in BF16 (Megatron-Core keeps its gradient buffer
        # in that precision): set_{llama3,llama31,qwen3,deepseek_v3}_common_configs set cfg.ddp.grad_reduce_in_fp32 =
        # False in every stored version of scripts/performance/configs/*/*_llm_pretrain.py.
        case["training_extra"] = {**case.get("training_extra", {}), "gradient_reduction": "bf16    # the recipes' grad_reduce_in_fp32 = False"}
        case["assumptions"].append("gradients reduced in BF16: the performance recipes' common settings (set_llama3_common_configs, set_llama31_common_configs, set_qwen3_common_configs, set_deepseek_v3_common_configs, set_gpt_oss_common_configs: cfg.ddp.grad_reduce_in_fp32 = False, in every stored version of Megatron-Bridge's scripts/performance/configs)")
    recipe = RECIPES.get(run["id"])
    if recipe:
        if "recompute" in recipe["plan"]:
            # The recipe's recompute replaces the default the first assumption states.
            case["assumptions"][0] = case["assumptions"][0].replace("recompute none, ", "")
        case["plan"].update(recipe["plan"])
        if recipe["plan"].get("overlap_tensor_communication") == "false":
            case["assumptions"][0] = case["assumptions"][0].replace(", tensor-parallel communication overlap", "")
        case["training_extra"] = {**case.get("training_extra", {}), **recipe.get("training", {})}
        case["assumptions"].append("from the recipe: " + recipe["why"])
        if recipe.get("token_drop"):
            token_drop(case, recipe["token_drop"])
    if source_key.startswith("nemo-25."):
        nemo2_settings(case)
    return case


def token_drop(case, how):
    """Drop-and-pad routing at capacity factor 1.0 (how: the callback or helper that sets it): no forced balancing, each
    expert computing its average share, padded."""
    case["training_extra"] = {name: value for name, value in case.get("training_extra", {}).items() if name != "forced_load_balance"}
    case["training_extra"]["expert_capacity_factor"] = f"1.0    # {how}: capacity 1.0, padded"
    case["assumptions"] = [item for item in case["assumptions"] if "forced-balanced" not in item]


def nemo2_settings(case):
    """NeMo 2.0's performance scripts: BF16 gradient reduction under FP8."""
    overlap = ", tensor-parallel communication overlap" if case["plan"].get("overlap_tensor_communication") == "true" else ""
    case["assumptions"][0] = f"recompute none, sequence parallelism with tensor parallelism, distributed optimizer{overlap}: the performance scripts' settings (the table does not list them)"
    case["training_extra"]["gradient_reduction"] = "bf16    # the performance scripts' grad_reduce_in_fp32 = False under FP8"
    case["assumptions"].append("gradients reduced in BF16: NeMo's performance scripts set recipe.trainer.plugins.grad_reduce_in_fp32 = False under FP8 (scripts/performance/helpers.py)")


def nvidia_defaults(run, source_key):
    training, model, hardware = run["training"], run["model"], run["hardware"]
    key = hardware["chip_key"]
    system = {"H100": H100_EOS, "B200": B200_DGX, "GB200": GB200_RACK, "GB300": GB300_RACK}[key]
    count = hardware["count"]
    cluster = {"systems": count // 8} if key in ("H100", "B200") else ({"chips": count} if count <= 72 else {"systems": count // 64, "chips_per_system": 64})
    fsdp = training["fsdp"]
    tensor = training["tp"] or 1
    return {
        "source_key": source_key,
        "measured": f"tokens_per_second_per_chip: {run['result']['tokens_per_s_per_device']}",
        "system": system, **cluster,
        "model": MODELS[model["name"]], "sequence": model["seq_len"], "batch": training["global_batch_seqs"],
        "precision": precision_key(training["precision"]), "attention": "flash         # cuDNN fused attention", "dropout": "false",
        "plan": {"tensor": tensor, **({"context": training["cp"]} if (training["cp"] or 1) > 1 else {}),
                 **({"expert": training["ep"]} if (training["ep"] or 1) > 1 else {}),
                 "pipeline": training["pp"] or 1, "data": training["dp"], "virtual_stages": training["vp"] or 1,
                 "micro_batch": training["micro_batch"], "sequence_parallel": "true" if tensor > 1 else "false",
                 "recompute": "none", "zero": 3 if fsdp else 1, **({"overlap_tensor_communication": "true"} if tensor > 1 else {})},
        "assumptions": [
            "recompute none, sequence parallelism with tensor parallelism, distributed optimizer, tensor-parallel communication overlap: the performance recipes' defaults (the table does not list them)",
        ] + (["the table does not say how the GPUs sit in 72-GPU racks: taken as racks of 64 (16 trays of 4)"] if key in ("GB200", "GB300") and count > 72 else [])
          + (["FP8 with current (per-tensor) scaling: ClusterTwin's fp8"] if "CS" in (training["precision"] or "") else [])
          + (["the table's forced-balanced routing (forced_load_balance): the model's routing skew does not apply, the statistical spread of balanced routing remains (1-3% here)"] if (training["ep"] or 1) > 1 else []),
        **({"training_extra": {"forced_load_balance": "true"}} if (training["ep"] or 1) > 1 else {}),
    }


def model_zoo(run):
    """Megatron-MoE-ModelZoo's Qwen3-235B-A22B runs on 256 H100 (BF16): the step time measured, with the dispatcher
    (DeepEP or NCCL all-to-all), the all-to-all overlap, the recompute and FSDP the table gives for each row."""
    training, model, hardware = run["training"], run["model"], run["hardware"]
    tensor = training["tp"] or 1
    notes = training["notes"] or ""
    recompute = training["activation_recompute"] or "none"
    full = recompute == "full"
    deep_ep = "DeepEP" in notes
    overlap = "overlap" in notes
    fsdp = bool(training["fsdp"])
    return {
        "source_key": "megatron-moe-model-zoo",
        "measured": f"step_time: {run['result']['step_time_s']} s",
        "system": H100_EOS, "systems": hardware["count"] // 8,
        "model": MODELS[model["name"]], "sequence": model["seq_len"], "batch": training["global_batch_seqs"],
        "precision": "bf16", "attention": "flash         # cuDNN fused attention", "dropout": "false",
        "training_extra": {"forced_load_balance": "true", **({"gradient_reduction": "bf16"} if fsdp else {})},
        "plan": {"tensor": tensor, "expert": training["ep"], "pipeline": training["pp"] or 1, "data": training["dp"],
                 "virtual_stages": training["vp"] or 1, "micro_batch": training["micro_batch"],
                 "sequence_parallel": "true" if tensor > 1 else "false",
                 "recompute": "full" if full else "[layernorm, moe_act]" if recompute == "norm, act" else "none", "zero": 3 if fsdp else 1,
                 **({"overlap_tensor_communication": "true"} if tensor > 1 else {}),
                 "expert_dispatch": "deduplicated" if deep_ep else "all-to-all",
                 **({"overlap_expert_communication": "true"} if overlap else {})},
        "assumptions": ([] if full or recompute == "none" else
                        [f"recompute '{recompute}': Megatron-Core's layernorm and moe_act recompute modules"] if recompute == "norm, act" else
                        [f"recompute '{recompute}': not a module set the importer knows, taken as none"]) + [
            "distributed optimizer and tensor-parallel communication overlap, as the model zoo's scripts run",
            "forced load balancing, as the model zoo's scripts run (--moe-router-force-load-balancing in best_practice/qwen3/run_h100_235b.sh): the model's routing skew does not apply",
        ] + (["DeepEP: the deduplicated dispatch (one copy of a token per rank, and per node across the network, holding its experts)"] if deep_ep else [])
          + (["'1f1b overlap': the all-to-alls of one micro-batch overlapped with another's computation"] if overlap else [])
          + (["FSDP: ZeRO stage 3 over the data-parallel ranks, reducing gradients in BF16 as the Megatron-FSDP user guide recommends (--grad-reduce-in-bf16, Megatron-LM docs/discussions/megatron-fsdp-user-guide)"] if fsdp else []),
    }


def nemo_long_sequence(run):
    """NeMo 24.03.01 'Long Sequence Performance' (Llama 2 7B, FP8, DGX H100): one row per sequence length, with the
    tensor, pipeline, data and context degrees of its with-CP configuration."""
    training, model, hardware = run["training"], run["model"], run["hardware"]
    count, tensor = hardware["count"], training["tp"] or 1
    return {
        "source_key": "nemo-long-sequence-24.03",
        "measured": f"model_tflops_per_chip_causal: {run['result']['tflops_per_device']}",
        "system": H100_EOS, **({"systems": count // 8} if count >= 8 else {"chips": count}),
        "model": MODELS[model["name"]], "sequence": model["seq_len"], "batch": training["global_batch_seqs"],
        "precision": "fp8", "attention": "flash         # cuDNN fused attention (Transformer Engine)", "dropout": "false",
        "plan": {"tensor": tensor, **({"context": training["cp"]} if (training["cp"] or 1) > 1 else {}),
                 "pipeline": training["pp"] or 1, "data": training["dp"], "virtual_stages": 1, "micro_batch": 1,
                 "sequence_parallel": "true" if tensor > 1 else "false", "recompute": "none", "zero": 1,
                 **({"overlap_tensor_communication": "true"} if tensor > 1 else {})},
        "assumptions": [
            "micro-batch 1, recompute none, sequence parallelism with tensor parallelism, distributed optimizer, tensor-parallel communication overlap: NeMo's performance defaults (the table gives only the parallel degrees)",
            "TFLOPS per GPU with attention counted over its causal half (NeMo's flops_formulas.py since 2025; the page does not say): at 1M tokens the full-sequence count would put cuDNN's attention at 27% of the H100's BF16 peak, against about 50-60% for fused causal attention on H100, while the causal count gives 54%",
        ],
    }


# How the catalogue's models differ from MaxText's configs of the same name (MaxText/configs/models/*.yml).
MAXTEXT_MODELS = {
    "gpt3-175b": ("model: the catalogue's GPT-3 175B for MaxText's gpt3-175b, which pads the vocabulary to 50,304 (50,257 here), "
                  "learns 16,384 positions and puts biases on its projections and norms: together under 0.1% of the work; "
                  "2,048 tokens, base.yml's max_target_length, which the workload does not set (the log's total_weights confirms it)"),
}


def maxtext(run):
    """MaxText on TPU slices: FSDP over each slice's ICI (optionally with tensor parallelism), head_dim 128 and SwiGLU
    from MaxText's base.yml for its synthetic models (a named model is the catalogue's), the per-device batch as one
    micro-batch; across slices data-parallel over the data-center network, or FSDP where the run sets a DCN FSDP axis."""
    training, model, hardware = run["training"], run["model"], run["hardware"]
    tensor = training["tp"] or 1
    notes = training["notes"] or ""
    per_device = float(notes.split("per_device_batch_size=")[1].split(";")[0])
    remat = training["activation_recompute"]
    slices = data_axis = training["dp"] or 1
    dcn_fsdp = "DCN FSDP" in (training["fsdp"] or "")
    v4 = {64: "google-tpu-v4-cube", 192: "google-tpu-v4-slice-192", 384: "google-tpu-v4-slice-384", 512: "google-tpu-v4-slice-512"}
    chips_per_slice = hardware["count"] // data_axis
    network = "google-datacenter-network" if slices > 1 else None
    chip = hardware["chip_key"]
    if chip == "TPUv4":
        system = (v4[hardware["count"]], None)
        slices = 1  # the v4 rows' data axis runs over ICI inside one slice: the whole slice is one system
    elif chip not in ("TPUv5e", "TPUv5p", "TPUv6e"):
        raise SystemExit(f"{run['id']}: no catalogue system for the TPU {chip}")
    else:
        system = {"TPUv5e": ("google-tpu-v5e-pod", network),
                  "TPUv5p": ("google-tpu-v5p-cube" if chips_per_slice == 64 else f"google-tpu-v5p-slice-{chips_per_slice}", network),
                  "TPUv6e": ("google-tpu-v6e-pod" if chips_per_slice == 256 else f"google-tpu-v6e-slice-{chips_per_slice}", network)}[chip]
    # MaxText's remat policies: full recomputes each layer; minimal (checkpoint_dots_with_no_batch_dims) keeps the
    # weight multiplies' outputs and recomputes the rest, the attention core and the norms; custom keeps (or offloads)
    # the tensors it names and recomputes the rest; others count as full.
    minimal = remat == "remat_policy=minimal"
    kept = remat.split("offload: ")[1].split(", ") if remat.startswith("remat_policy=custom") else []
    projections_kept = {"query_proj", "key_proj", "value_proj"} <= set(kept)
    if minimal:
        recompute, why = "[core_attn, layernorm]", ("remat_policy=minimal (jax.checkpoint_policies.checkpoint_dots_with_no_batch_dims): the weight multiplies' outputs "
                                                    "kept, the attention core and the norms recomputed (the SwiGLU activation too, not modelled)")
    elif projections_kept:
        recompute = "[core_attn, layernorm, mlp]"
        why = (f"remat_policy=custom offloading {', '.join(kept)} to the host and recomputing the rest: the attention core, the norms "
               "and the feed-forward block recomputed from the kept projections" + ("" if "out_proj" in kept else
               "; the attention's output projection, recomputed too, is not (about 2.5% of the layer's training work, which the model leaves out)")
               + "; the offloaded tensors are counted in the chip's memory (the model does not offload them), so the memory report is over"
               + "; the feed-forward block's down projection is replayed, which XLA may drop as its output is not used (docs/calibration.md)")
    elif kept == ["decoder_layer_input"]:
        recompute, why = "full", ("remat_policy=custom offloading only decoder_layer_input to the host: full recompute from the layer's input, "
                                  "which the model keeps in the chip's memory (the memory report is over); the feed-forward block's down projection "
                                  "is replayed, which XLA may drop as its output is not used (docs/calibration.md)")
    else:
        recompute, why = "full", (f"{remat}: counted as full recompute" if remat != "remat_policy=full" else "remat_policy=full: full recompute")
    named = MODELS.get(model["name"]) if model["layers"] is None else None
    tokens = run["result"]["tokens_per_s_per_device"]
    case = {
        "source_key": "maxtext",
        "measured": f"tokens_per_second_per_chip: {tokens}" if tokens else f"model_tflops_per_chip: {run['result']['tflops_per_device']}",
        "system": system, "systems": slices,
        "sequence": model["seq_len"], "batch": training["global_batch_seqs"],
        "precision": "bf16", "attention": "flash         # Pallas flash attention (MaxText 'autoselected')", "dropout": "false",
        "plan": {"tensor": tensor, "pipeline": 1, "data": hardware["count"] // tensor, "virtual_stages": 1,
                 "micro_batch": int(per_device * tensor), "sequence_parallel": "false",
                 "recompute": recompute, "zero": 3, **({"sharding": chips_per_slice // tensor} if data_axis > 1 and not dcn_fsdp else {}),
                 **({"overlap_tensor_communication": "true"} if tensor > 1 else {})},
        "assumptions": [why]
                       + (["model shape: MaxText base.yml head_dim 128 and silu-linear (SwiGLU) feed-forward; untied output head"] if named is None else
                          [MAXTEXT_MODELS[named]] if named in MAXTEXT_MODELS else [])
                       + ([f"FSDP over both slices ({notes.split('; ', 1)[1]}): the weights sharded over all {hardware['count']} chips, gathered over ICI and across the data-center network"] if dcn_fsdp else [])
                       + (["weight_dtype=bfloat16: no FP32 copy of the weights, where the model keeps MaxText's default FP32 master weights (memory only: the gathers are BF16 either way)"] if "weight_dtype=bfloat16" in notes else [])
                       + ([f"tensor-parallel collectives overlapped with their matmuls: the run scripts (configs/{'v5p' if chip == 'TPUv5p' else 'v5e'}/*.sh) set "
                           "LIBTPU_INIT_ARGS --xla_tpu_enable_async_collective_fusion and --xla_tpu_overlap_compute_collective_tc",
                           "sequence parallelism off: MaxText does shard the activations over the tensor axis between layers (base.yml "
                           "logical_axis_rules: activation_embed -> tensor), which the memory report therefore overstates; modelled as "
                           "sequence-parallel, the elementwise work shrinks 16-fold and the TPU v5e levels refit worse (8% mean, attention "
                           "level above 1), so the XLA fusions that sharding enables are not yet understood" if chip != "TPUv5p" else
                           "sequence parallelism off, as the TPU v5e cases: MaxText does shard the activations over the tensor axis between "
                           "layers (base.yml logical_axis_rules: activation_embed -> tensor), which the memory report therefore overstates"] if tensor > 1 else []),
    }
    if OUTPUT["supplementary"] and chip in FAMILIES_FITTED_ON_SUPPLEMENTARY:
        case["fits_family"] = FAMILIES_FITTED_ON_SUPPLEMENTARY[chip]
    if named is None:
        case["model_inline"] = {
            "id": "maxtext-" + run["id"].split("-")[2], "name": model["name"], "layers": model["layers"], "hidden_size": model["hidden"],
            "attention_heads": model["heads"], "key_value_heads": model["kv_heads"], "head_size": 128, "feed_forward_size": model["ffn"],
            "feed_forward_activation": "swiglu", "vocabulary_size": model["vocab"], "position_embedding": "rotary",
            "normalization": "rmsnorm", "tied_embeddings": "false",
        }
    else:
        case["model"] = named
    return case


def neuron(run):
    """NeuronX Distributed on trn1.32xlarge: the table counts NeuronCores (2 per chip); degrees here are in chips."""
    training, model, hardware = run["training"], run["model"], run["hardware"]
    tensor_cores, pipeline, data_cores = training["tp"], training["pp"] or 1, training["dp"]
    nxd = training["framework"] == "NeuronX Distributed"
    tensor = max(1, tensor_cores // 2)
    chips = hardware["count"]
    data = chips // (tensor * pipeline)
    return {
        "source_key": "aws-neuron-trn1",
        "measured": f"tokens_per_second_per_chip: {run['result']['tokens_per_s_per_device']}",
        "system": TRN1, "systems": chips // 16,
        "model": MODELS[model["name"]], "sequence": model["seq_len"], "batch": training["global_batch_seqs"],
        "precision": "bf16", "attention": "flash         # NKI flash attention", "dropout": "false",
        "plan": {"tensor": tensor, "pipeline": pipeline, "data": data, "virtual_stages": 1,
                 "micro_batch": training["micro_batch"], "sequence_parallel": "true" if tensor > 1 else "false",
                 "recompute": "full", "zero": 1},
        "assumptions": [f"the table's degrees count NeuronCores: tensor {tensor_cores} cores = {tensor} chips, data {data_cores} cores = {data} replicas of chips",
                        "activation checkpointing is not stated in the table: taken as full recompute. The NeuronX Distributed tutorials "
                        "(their current versions: libraries/neuronx-distributed/tutorials/training_llama_tp_zero1.rst and training_llama_tp_pp.rst "
                        "in aws-neuron/aws-neuron-sdk @ 0c5aca1c) run --use_selective_checkpoint 1 (\"Sequence Parallelism and Selective "
                        "Activation Checkpointing\"), but with the published NxD runs taken as selective and the family refitted, Llama 3.1 8B "
                        "and Llama 2 70B come out +22% and +24% against the NeMo Megatron run's -14% (mean 15.0%), where as full recompute "
                        "the four are -10.3% to +9.3% (mean 7.2%; docs/calibration.md): what the compiled step recomputes is not established" if nxd else
                        "activation checkpointing is not stated in the table, nor in a NeMo Megatron Neuron recipe found: taken as full recompute"],
    }


NEMO_2407 = {"nemo2407-h100-gpt3-175b-128gpu", "nemo2407-h100-gpt3-175b-512gpu", "nemo2407-h100-llama2-7b-8gpu",
             "nemo2407-h100-llama2-13b-16gpu", "nemo2407-h100-llama2-70b-64gpu",
             "nemo2407-h100-llama3-8b-8gpu", "nemo2407-h100-llama3-70b-64gpu",
             "nemo2407-h100-gpt3-5b-64gpu", "nemo2407-h100-gpt3-20b-64gpu", "nemo2407-h100-nemotron-8b-64gpu",
             "nemo2407-h100-nemotron-22b-64gpu", "nemo2407-h100-nemotron-340b-128gpu"}


def precision_key(published):
    """The scenario precision of a published one: BF16, FP8 with per-tensor scaling (delayed or current), MXFP8, NVFP4."""
    text = (published or "").upper()
    if "NVFP4" in text:
        return "nvfp4"
    if "MX" in text:
        return "mxfp8"
    return "bf16" if text.startswith("BF16") else "fp8"


def pipeline_split(layers, pipeline):
    """ClusterTwin's default placement (PipelineLayers.Of): the most loaded rank's layers and the first and last ranks'."""
    heaviest = -(-layers // pipeline)
    shortfall = heaviest * pipeline - layers
    return heaviest, heaviest - (shortfall + 1) // 2, heaviest - shortfall // 2


def pipeline_holds(layers, pipeline, virtual):
    """ClusterTwin's PipelineLayers: as even as possible, the first and last stages one layer fewer where the layers do
    not divide (Megatron recipes that count the embedding and the loss as layers); the chunks divide the heaviest rank,
    and an end rank one layer short may give one chunk to the embedding or the loss alone."""
    heaviest, first, last = pipeline_split(layers, pipeline)
    if heaviest * pipeline - layers > 2 or min(first, last) < 1:
        return False
    if heaviest % virtual == 0 and heaviest >= virtual and min(first, last) >= virtual - 1:
        return True
    # On two ranks both may be a layer short of whole chunks, the embedding's and the loss's (48 as 50 over 2 x 5).
    return pipeline == 2 and (heaviest + 1) % virtual == 0 and first == last == heaviest


def convert(run):
    """Returns (case, None) or (None, reason)."""
    case, reason = convert_run(run)
    training, model = run.get("training") or {}, run.get("model") or {}
    pipeline, virtual, layers = training.get("pp") or 1, training.get("vp") or 1, model.get("layers")
    if case is not None and run["kind"] != "inference" and layers and pipeline > 1:
        heaviest, first, last = pipeline_split(layers, pipeline)
        if min(first, last) < virtual and "first_stage_layers" not in (case.get("plan") or {}):
            case.setdefault("assumptions", []).append(
                f"{layers} layers as {first}, {heaviest}, ..., {heaviest}, {last} per rank in chunks of {heaviest // virtual}: Megatron-LM's "
                "--account-for-embedding-in-pipeline-split and --account-for-loss-in-pipeline-split, counting the embedding and the "
                "loss as a layer each, so an end rank's outer chunk holds the embedding or the loss alone")
    return case, reason


def convert_run(run):
    """Returns (case, None) or (None, reason)."""
    if run["kind"] == "inference":
        return serving(run)
    if run["completeness"] != "complete":
        return None, f"{run['completeness']}: configuration or result incomplete"
    key = run["hardware"]["chip_key"]
    if run["id"].startswith("korthikanti-") and key == "A100":
        return korthikanti(run), None
    if run["id"].startswith("mpt-") and key == "A100":
        return mosaic(run), None
    training, model = run["training"], run["model"]
    if model["moe_experts"] and model["name"] not in MODELS:
        return None, f"mixture-of-experts model {model['name']} not in the catalogue yet"
    pipeline, virtual = training["pp"] or 1, training["vp"] or 1
    explicit_layout = "first_stage_layers" in RECIPES.get(run["id"], {}).get("plan", {})
    if model["layers"] and not explicit_layout and not pipeline_holds(model["layers"], pipeline, virtual):
        return None, f"uneven pipeline split: {model['layers']} layers over {pipeline} stages of {virtual} chunks, beyond one layer fewer on the first and last stage"
    if run["id"] in NEMO_2407:
        return nvidia(run, "nemo-24.07"), None
    if run["id"].startswith("mbridge2511-"):
        return nvidia(run, "megatron-bridge-25.11"), None
    if run["id"].startswith(("nemo2502-", "nemo2504-")):
        return nvidia(run, f"nemo-{run['id'][4:6]}.{run['id'][6:8]}"), None
    if run["id"].startswith("mbridge2509-"):
        return nvidia(run, "megatron-bridge-25.09"), None
    if run["id"].startswith("mbridge2606-"):
        return nvidia(run, "megatron-bridge-26.06"), None
    if run["id"].startswith("moezoo-h100-"):
        return model_zoo(run), None
    if run["id"].startswith("nemo-longseq-h100-"):
        return nemo_long_sequence(run), None
    if run["id"].startswith("maxtext-"):
        return maxtext(run), None
    if run["id"].startswith("neuron-trn1-train-"):
        return neuron(run), None
    if run["id"].startswith("nemo2407-") and ("lora" in run["id"] or "sft" in run["id"]):
        return None, "fine-tuning (LoRA or packed SFT sequences): not a pre-training step"
    return None, f"{key}: not yet mapped to a catalogue system and framework settings"


MOE_NOT_FITTED = ("mixture of experts: kept out of the family's levels, which dense runs fit; the expert layers' host "
                  "launch times are fitted to these runs instead (clustertwin calibrate --framework megatron-core)")


NVFP4_NOT_FITTED = ("NVFP4 training: validated, not fitted, until the model follows the NVFP4 recipe, which keeps part of the "
                    "multiplies (the last layers, weight gradients) at higher precision and adds random Hadamard transforms; costed "
                    "as every multiply at the FP4 rate it would pull the family's levels toward its error")


SUPPLEMENTARY_NOT_FITTED = "supplementary: the levels of a chip family with published runs are fitted on the published set (validation/cases) alone"
# The chips whose measured runs are all supplementary: their families' levels are fitted on them (docs/calibration.md).
FAMILIES_FITTED_ON_SUPPLEMENTARY = {"TPUv5p": "google-tpu-v5p", "TPUv6e": "google-tpu-v6e"}
SUPPLEMENTARY_MOE_NOT_FITTED = SUPPLEMENTARY_NOT_FITTED + ", which mixtures of experts stay out of"
SUPPLEMENTARY_NOT_FRAMEWORK_FITTED = ("a check of the training framework's expert launch times on runs they never saw: they are fitted on "
                                      "the published mixture-of-experts runs (clustertwin calibrate --framework)")

# Where the cases go and what their headers name: validation/cases from the published set, unless --output says otherwise.
OUTPUT = {"folder": os.path.join(ROOT, "validation", "cases"), "origin": "shared/reference/validation/published-runs.json", "supplementary": False}


def write(run, case):
    if OUTPUT["supplementary"]:
        case = {**case, "not_fitted": SUPPLEMENTARY_MOE_NOT_FITTED, "not_framework_fitted": SUPPLEMENTARY_NOT_FRAMEWORK_FITTED} if run["model"].get("moe_experts") else \
            case if case.get("fits_family") else {**case, "not_fitted": SUPPLEMENTARY_NOT_FITTED}
    elif run["model"].get("moe_experts"):
        case = {**case, "not_fitted": MOE_NOT_FITTED}
    elif "NVFP4" in (run["training"]["precision"] or "").upper():
        case = {**case, "not_fitted": NVFP4_NOT_FITTED}
    system, fabric = case["system"]
    cluster = [f"    system: {system}"]
    if "chips" in case and "systems" not in case:
        cluster.append(f"    chips: {case['chips']}")
    else:
        cluster.append(f"    count: {case['systems']}")
    if "chips_per_system" in case:
        cluster.append(f"    chips_per_system: {case['chips_per_system']}")
    if fabric:
        cluster.append(f"    fabric: {fabric}")
    if "model_inline" in case:
        model = ["  model:"] + [f"    {name}: {value}" for name, value in case["model_inline"].items()]
    else:
        model = [f"  model: {case['model']}"]
    lines = [
        f"# {run['id']}: {run['source']['name'].split(';')[0]}",
        f"# Generated by tools/import-published-runs.py from {OUTPUT['origin']}.",
        f"id: {run['id']}",
        f"source: \"{run['source']['reference']}, {run['source']['table']}\"",
        f"source_key: {case['source_key']}",
    ] + ([f"not_fitted: \"{case['not_fitted']}\""] if case.get("not_fitted") else []) + (
        [f"not_framework_fitted: \"{case['not_framework_fitted']}\""] if case.get("not_framework_fitted") else []) + [
        "measured:",
        f"  {case['measured']}",
        "scenario:",
        f"  name: {run['model']['name']} on {run['hardware']['count']} {run['hardware']['chip_key']}",
        "  cluster:",
    ] + cluster + model + [
        "  training:",
        f"    sequence_length: {case['sequence']}",
        f"    global_batch: {case['batch']}",
        f"    precision: {case['precision']}",
        f"    attention: {case['attention']}",
        f"    dropout: {case['dropout']}",
    ] + [f"    {name}: {value}" for name, value in case.get("training_extra", {}).items()] + [
        "  plan:",
    ] + [f"    {name}: {value}" for name, value in case["plan"].items()]
    if case.get("fits_family"):
        family = case["fits_family"]
        lines[2:2] = [f"# Fits {family}'s levels, the published set having none of its runs (clustertwin calibrate --family {family})."]
    if case.get("assumptions"):
        lines[2:2] = ["# Assumed where the source is silent:"] + [f"#  - {item}" for item in case["assumptions"]]
    with open(os.path.join(OUTPUT["folder"], run["id"] + ".yaml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")


# ---- Serving benchmarks ------------------------------------------------------------------------------------------
# Each framework's server settings as the benchmark ran them (docs/serving.md#validation gives the sources): the
# batch limits, the memory share, chunked prefill and multi-step scheduling. Iteration overheads are not set here:
# they come from the framework entries in catalog/frameworks/ (fitted by the procedure in docs/serving.md).

# TensorRT-LLM's trtllm-bench derives max_batch_size and max_num_tokens from the lengths and the cache
# (tensorrt_llm/bench/build/tuning.py; computed for each row of perf-overview.md, H100, FP8 weights and cache).
TRTLLM_LIMITS = {  # (model key, input, output) -> (max batch, max tokens)
    ("llama3-8b", 128, 2048): (512, 2048), ("llama3-8b", 1000, 1000): (640, 2048), ("llama3-8b", 2048, 128): (512, 9216),
    ("llama3-8b", 2048, 2048): (384, 2432), ("llama3-8b", 20000, 2000): (64, 20064),
    ("llama3-70b", 128, 2048): (256, 2048), ("llama3-70b", 1000, 1000): (384, 2048), ("llama3-70b", 2048, 128): (256, 4608),
    ("llama3-70b", 2048, 2048): (160, 2208), ("llama3-70b", 20000, 2000): (64, 20064),
    ("llama3-405b", 128, 2048): (512, 2048), ("llama3-405b", 1000, 1000): (512, 2048), ("llama3-405b", 2048, 128): (512, 7680),
    ("llama3-405b", 2048, 2048): (256, 2304), ("llama3-405b", 20000, 2000): (64, 20064),
}
SERVING_MODELS = {"Llama 2 7B": "llama2-7b", "Llama 2 13B": "llama2-13b", "Llama 2 70B": "llama2-70b", "Llama 3 8B": "llama3-8b", "Llama 3.1 8B": "llama3-8b", "Llama 3 70B": "llama3-70b", "Llama 3.3 70B": "llama3-70b",
                  "Llama 3.1 70B Instruct": "llama3-70b", "Llama 3.1 405B": "llama3-405b"}
# ShareGPT as sglang.bench_serving samples it (seed 1, Llama 3.1 tokenizer): 1,130,466 input and 971,613 output tokens
# over 5,000 prompts (sgl-project/sglang issue 1505), prompts of 4-1024 tokens, completions of at least 4 and prompt
# plus completion at most 2048. Log-normal lengths with a spread of 1 (assumed: the sample spans about two orders of
# magnitude); each median is solved so that the truncated draw has the sample's mean.
SHAREGPT = {"input": (226.1, 4, 1024), "output": (194.3, 4, 2044)}


def truncated_lognormal_median(mean, low, high, spread=1.0):
    """The median whose log-normal draw, redrawn outside [low, high], has the given mean (bisection, seeded)."""
    import math, random
    def draw_mean(median):
        generator, total, count = random.Random(7), 0.0, 0
        while count < 40000:
            value = round(median * math.exp(spread * generator.gauss(0, 1)))
            if low <= value <= high:
                total, count = total + value, count + 1
        return total / count
    lower, upper = low, high
    for _ in range(30):
        middle = (lower + upper) / 2
        lower, upper = (middle, upper) if draw_mean(middle) < mean else (lower, middle)
    return round((lower + upper) / 2, 1)


def serving(run):
    """(case, None) for an inference run, or (None, reason)."""
    hardware, model, inference, result = run["hardware"], run["model"], run["inference"], run["result"]
    if run["id"].startswith("neuron-") and model["heads"] == model["kv_heads"] and model["heads"] % inference["tp"]:
        return None, (f"{model['heads']} query and {model['kv_heads']} key-value heads over {inference['tp']} NeuronCores: ClusterTwin pads query "
                      "heads and replicates grouped key-value heads, and how Transformers NeuronX splits key-value heads that neither divide "
                      "nor are divided by its ranks was not found in its source")
    model_key = SERVING_MODELS.get(model["name"])
    if model_key is None:
        return None, f"inference model {model['name']} not in the catalogue"
    measured = {}
    for key, name in (("output_tokens_per_s", "output_tokens_per_second"), ("requests_per_s", "requests_per_second")):
        if result.get(key):
            measured[name] = f"{result[key]}"
    for key, name in (("ttft_p50_ms", "ttft_p50"), ("ttft_p99_ms", "ttft_p99"), ("tpot_p50_ms", "tpot_p50"), ("tpot_p99_ms", "tpot_p99"),
                      ("itl_ms", "itl_p50"), ("e2e_latency_ms", "e2e_p50")):
        if result.get(key):
            measured[name] = f"{result[key]} ms"
    framework = inference["framework"]
    assumptions = []
    if run["id"].startswith("neuron-"):
        inf2 = hardware["chip_key"] == "Inf2"
        chips = hardware["count"]
        batch = inference["max_batch"]
        weights = "int8" if "int8" in inference["precision"] else None
        if "tpot_p99_ms" in result and result["tpot_p99_ms"] < result["tpot_p50_ms"]:
            measured.pop("tpot_p99")
            assumptions.append("the table's TPOT P99 is below its P50: the P99 is left out")
        serving_block = {"framework": "transformers-neuronx", "tensor": chips, "precision": "bf16", **({"weight_precision": weights} if weights else {}),
                         "kv_cache_precision": "bf16", "max_batch": batch, "max_batch_tokens": batch * inference["input_len"]}
        requests = {"arrival": "all-at-once", "count": batch, "input_tokens": inference["input_len"], "output_tokens": inference["output_len"]}
        cluster = {"system": "aws-inf2-48xlarge" if inf2 else "aws-trn1-32xlarge", "count": 1}
        source_key = "aws-neuron-inference"
        assumptions += [f"TP degree {inference['tp']} counts NeuronCores: tensor {chips} chips",
                        "static batching (transformers-neuronx sample(): the batch starts together and runs to the fixed length): all requests at once, the batch's prompts prefilled in one iteration",
                        "model FP16 with BF16 multiplies: costed as BF16" + (", weights stored as INT8 and dequantized" if weights else "")]
    elif run["id"].startswith("trtllm-"):
        tensor = inference["tp"]
        batch, tokens = TRTLLM_LIMITS[(model_key, inference["input_len"], inference["output_len"])]
        serving_block = {"framework": "tensorrt-llm", "tensor": tensor, "precision": "fp8", "kv_cache_precision": "fp8",
                         "max_batch": batch, "max_batch_tokens": tokens, "memory_utilization": 0.9}
        requests = {"arrival": "all-at-once", "count": inference["num_requests"], "input_tokens": inference["input_len"], "output_tokens": inference["output_len"]}
        cluster = {"system": "nvidia-dgx-h100", "chips": tensor}
        source_key = "tensorrt-llm-perf-overview"
        assumptions += ["max batch and max tokens as trtllm-bench computes them for the row (tensorrt_llm/bench/build/tuning.py); chunked prefill off, so a prompt is never split",
                        "FP8 weights and FP8 key-value cache (trtllm-bench's default for an FP8 checkpoint); kv_cache_free_gpu_mem_fraction 0.90, taken as 0.9 of the memory"]
    else:
        vllm = "vLLM" in framework
        offline = inference["concurrency"] == "all requests at once"
        rate = None if offline else float(inference["concurrency"].split(" at ")[1].split(" ")[0])
        serving_block = ({"framework": "vllm-0.6", "tensor": 4, "precision": "bf16", "kv_cache_precision": "bf16", "max_batch": 256, "max_batch_tokens": 4096,
                          "memory_utilization": 0.88 if offline else 0.9, "scheduler_steps": 10} if vllm else
                         {"framework": "sglang-0.3", "tensor": 4, "precision": "bf16", "kv_cache_precision": "bf16", "max_batch": 2048, "max_batch_tokens": 8192,
                          "memory_utilization": 0.88 if offline else 0.85})
        lengths = {name: truncated_lognormal_median(*SHAREGPT[name]) for name in ("input", "output")}
        requests = {"arrival": "all-at-once" if offline else "poisson", **({} if offline else {"rate": rate}), "count": inference["num_requests"],
                    "input_tokens": f"{{median: {lengths['input']}, spread: 1, range: [{SHAREGPT['input'][1]}, {SHAREGPT['input'][2]}]}}",
                    "output_tokens": f"{{median: {lengths['output']}, spread: 1, range: [{SHAREGPT['output'][1]}, {SHAREGPT['output'][2]}]}}", "seed": 1}
        cluster = {"system": "nvidia-dgx-h100", "chips": 4}
        source_key = "sglang-vllm-benchmark"
        assumptions += ["ShareGPT lengths as log-normal draws with the sample's means (226.1 prompt, 194.3 completion tokens; spread assumed)",
                        ("vLLM 0.6.0: max_num_seqs 256, 4096 tokens per step (--max_model_len 4096, no chunked prefill), 10 scheduler steps; memory 0.9 (0.88 offline)" if vllm else
                         "SGLang 0.3.0: chunked prefill 8192 tokens, memory fraction 0.85 (the default; 0.88 offline), running requests bounded by the cache")]
    return {"source_key": source_key, "measured": measured, "cluster": cluster, "model": model_key, "serving": serving_block,
            "requests": requests, "assumptions": assumptions}, None


def write_serving(run, case):
    source = run["source"]
    lines = [
        f"# {run['id']}: {source['name'].split(';')[0]}",
        f"# Generated by tools/import-published-runs.py from {OUTPUT['origin']}.",
        "# Assumed where the source is silent:",
    ] + [f"#  - {item}" for item in case["assumptions"]] + [
        f"id: {run['id']}",
        f"source: \"{source['name'].split(' (')[0]}, {source['table']}\"",
        f"source_key: {case['source_key']}",
        "measured:",
    ] + [f"  {name}: {value}" for name, value in case["measured"].items()] + [
        "scenario:",
        f"  name: {run['model']['name']} on {run['hardware']['count']} {run['hardware']['chip_key']}, {run['inference']['framework'].split(' (')[0]}",
        "  cluster: {" + ", ".join(f"{name}: {value}" for name, value in case["cluster"].items()) + "}",
        f"  model: {case['model']}",
        "  serving:",
    ] + [f"    {name}: {value}" for name, value in case["serving"].items()] + [
        "  requests:",
    ] + [f"    {name}: {value}" for name, value in case["requests"].items()]
    with open(os.path.join(OUTPUT["folder"], run["id"] + ".yaml"), "w") as handle:
        handle.write("\n".join(lines) + "\n")


README_MARKER = "<!-- Everything below is written by tools/import-published-runs.py --output; edit above this line. -->"


def write_not_expressible(skipped):
    """The published set's runs not expressible in validation/not-yet-expressible.md; with --output, at the end of the
    folder's README.md, below its marker (the text above it is kept)."""
    rows = "| id | reason |\n|---|---|\n" + "".join(f"| {run_id} | {reason} |\n" for run_id, reason in skipped)
    if not OUTPUT["supplementary"]:
        with open(os.path.join(ROOT, "validation", "not-yet-expressible.md"), "w") as handle:
            handle.write("# Published runs not yet turned into validation cases\n\n")
            handle.write("Written by `tools/import-published-runs.py`; each run keeps the reason it cannot be expressed yet.\n\n")
            handle.write(rows)
        return
    readme = os.path.join(OUTPUT["folder"], "README.md")
    kept = open(readme).read().split(README_MARKER)[0] if os.path.exists(readme) else f"# Supplementary cases from {OUTPUT['origin']}\n\n"
    with open(readme, "w") as handle:
        handle.write(kept + README_MARKER + "\n\n## Not expressible yet\n\n")
        handle.write((f"Each run of `{OUTPUT['origin']}` not written as a case, with the reason.\n\n" + rows) if skipped else
                     f"Every run of `{OUTPUT['origin']}` is written as a case.\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("runs", nargs="?", default=DEFAULT, help="the runs (default: shared/reference/validation/published-runs.json)")
    parser.add_argument("--output", help="write the cases to this folder, training cases marked not fitted (serving cases are outside calibrate-serving's folder), and list the runs not expressible in its README.md")
    arguments = parser.parse_args()
    if arguments.output:
        path = os.path.abspath(arguments.runs)
        OUTPUT.update(folder=os.path.abspath(arguments.output), supplementary=True,
                      origin=os.path.relpath(path, ROOT) if path.startswith(ROOT + os.sep) else arguments.runs)
        os.makedirs(OUTPUT["folder"], exist_ok=True)
    runs = json.load(open(arguments.runs))
    skipped = []
    for run in runs:
        case, reason = convert(run)
        if case is None:
            skipped.append((run["id"], reason))
        elif run["kind"] == "inference":
            write_serving(run, case)
        else:
            write(run, case)
    write_not_expressible(skipped)
    print(f"{len(runs) - len(skipped)} cases written, {len(skipped)} listed as not yet expressible")


if __name__ == "__main__":
    main()

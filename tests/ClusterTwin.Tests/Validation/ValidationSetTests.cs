using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Validation;

/// <summary>
/// The whole validation set, run as <c>clustertwin validate</c> runs it (catalogue calibration and cross-validated
/// held-out predictions). The breadth and the band coverage are held to the validation issue's bar. The errors are
/// held to the level reached so far, a ratchet, since the bar (mean 5%, worst 15%) is not met yet: docs/calibration.md
/// names the cases that miss it and why. The cases the family levels fit (dense models) and the mixture-of-experts cases
/// (which fit their framework's expert launch times instead) have a ratchet each. Lower them as the model improves;
/// never raise one to let a change through unless the change corrects a case to its source, or is a model change that
/// finer measurements support: published per-layer timings, or timings of the kernels on the chip committed under
/// measurements/. Say which beside it, and what it cost. (Until 2026-11-26 the rule also asked that such a change
/// lower the mean over all the training cases; a measured kernel effect is kept even where one case, whose gap lies
/// elsewhere, moves the wrong way, since refusing it would fit the model to the validation set.)
/// </summary>
public class ValidationSetTests
{
    // 5.6% to 5.35% with PyTorch FSDP's fitted slowdown without recompute (MPT 13B and 7B at 2,048 tokens). The worst
    // case, MPT-30B at 8,192 tokens, was raised once, from 38.3% to 39.4% by the same change: with the runs without
    // recompute no longer pulling the A100 level down (0.805 to 0.815), this outlier of its own table, already
    // predicted too fast, moves further.
    // Raised to 5.55% when five more NeMo 24.07 runs joined (GPT-3 5B and 20B, Nemotron 8B, 22B and 340B: four within
    // 7%, Nemotron-3 8B +16%) with the output head kept in BF16 under FP8: over the 77 runs before them, 5.30% to
    // 5.39%.
    // Lowered to 5.54% (5.53%) with Megatron-Bridge's Llama 3 70B runs on GB200 and GB300 offloading activations to the
    // Grace CPUs' memory, as their recipe does: Transformer Engine spreads the moves over the layers, so only the GB200
    // run's first one shows (+7.7% to +7.5%).
    // Raised to 5.58% (5.53% to 5.57%) by a correction of the Megatron-Bridge cases to their recipes: every performance
    // builder reduces gradients in BF16 (grad_reduce_in_fp32 = False), which the cases had taken as FP32. Half the
    // data-parallel bytes: Llama 3.1 405B on 1,024 H100 +7.7% to +9.4%, on 128 B200 +6.6% to +8.8%, with the Hopper
    // and Blackwell levels refitted (0.755 to 0.75, 0.575 to 0.57). The model changes of the same commits (activations
    // kept in FP8, the host memory bounding offloading) moved one run, GB200 Llama 3 70B, from +7.5% to +6.8%.
    // Lowered to 5.45% (5.57% to 5.445%) with the backward pass's second all-gather under sequence parallelism, which
    // brings one layer of Korthikanti et al.'s 22B model within 2.5% of their Table 4 in all five configurations
    // (SequenceParallelismTests): their sequence-parallel runs -9.9, -9.0, -6.0 and -0.8% to -7.4, -5.5, -4.2 and
    // +0.9%; Trainium1's refit 8.1% to 7.2%.
    // Raised to 5.47% (5.445% to 5.462%) by fused attention's head-size factors, timed on an H100 (measurements/,
    // AttentionHeadSizeTests): Nemotron-4 340B, the one published Hopper run whose heads are not 128 wide (192), runs
    // its attention backward a third slower and goes from -4.6% to -6.0%; no other fitted run moves.
    // Lowered to 4.96% (5.462% to 4.958%, under the 5% for the first time) by a correction of the NVIDIA cases
    // to their frameworks: Megatron-Core overlaps pipeline sends with the next chunk under the interleaved schedule
    // (overlap_p2p_comm, which Megatron-Bridge's CommOverlapConfig and NeMo's launcher configs turn on with virtual
    // stages), where the model had charged every send exposed. Hopper's matrix level went from 0.75 to 0.705,
    // Blackwell's from 0.575 to 0.525; NeMo's Llama 2 13B -10.3% to -0.6% (TP1 PP4 VP10: its sends of 42 MB were half
    // its compute).
    // Raised to 4.97% (4.958% to 4.97%) by the Blackwell and Blackwell Ultra attention curves, published cuDNN kernel
    // timings on a GB200 and a GB300 committed under measurements/ (docs/calibration.md, "Published attention
    // timings"), in place of A100's shapes at fitted levels of 0.5 and 0.415: Blackwell's attention level became 1.0
    // and its matrix level 0.5 (0.525); the dense Blackwell runs moved both ways (Megatron-Bridge's Llama 3 8B on 8
    // B200 -6.8% to -0.5%, on 8 GB200 -0.6% to +6.0%; Llama 3 70B on 64 GB300 +10.1% to +15.5%), while the mean over
    // all 105 training cases fell from 5.96% to 5.83% and the mixture-of-experts mean from 9.77% to 8.94% (the model
    // zoo's GB300 Qwen3-235B at 128K tokens, nine tenths attention, -43.5% to -21.8%).
    // Raised to 4.98% (4.969% to 4.972%) by the one-factor fit's new rule (docs/calibration.md): where a family's own
    // attention curve is measured and no fitted run spends 30% of its work in attention, the factor is the matrix
    // level's alone and attention runs at the timed kernels' speed. GB300's levels went from 0.655 and 0.655 to 0.58
    // and 1.0; its dense runs moved both ways (Llama 3.1 405B -0.2% to -5.7%, Llama 3 70B +15.5% to +12.8%).
    // Lowered to 4.85% (4.974% to 4.841%), the worst to 39.0% (39.4% to 38.99%), by charging a hidden data-parallel
    // collective its channels' share of the chip (the framework's collective_channels: NCCL runs two channels per
    // member of a group in a node, at most 16, each on a multiprocessor of its own; measured on an H100,
    // measurements/nvidia-h100-sxm-contention-2026-11-26.json): LLM Foundry's MPT-70B on 32 A100, gathering its weights
    // for every micro-batch of 4,096 tokens, +16.1% to +12.8%. The A100 level rose from 0.815 to 0.825 with it, so the
    // Korthikanti runs, held out, went from 3.8% to 4.4%.
    private const double MeanErrorRatchetPercent = 4.85;
    private const double WorstErrorRatchetPercent = 39.0;
    // 9.6% with curve shapes carried over from A100; 8.75% with Hopper's measured on an H100 (docs/calibration.md);
    // 8.6% with Trainium1's tensor degree counted in NeuronCores, two ranks per chip; 8.35% with FSDP's slowdown
    // without recompute; 8.45% with the five NeMo runs and the attention level left at its curves where no fitted run
    // spends 30% of its work in attention (without that rule, Hopper's fold without its long-sequence runs put the
    // attention level at 0.62 and the held-out mean at 10.6%); 8.43% (8.42%) with the 70B runs' activation offloading.
    // Raised to 8.47% (8.42% to 8.47%) by the same correction of the Megatron-Bridge cases' gradient reduction.
    // Lowered to 8.46% (8.453%) with the second all-gather of sequence parallelism.
    // Raised to 8.47% (8.453% to 8.469%) by the head-size factors above (Nemotron-4 340B held out).
    // Unchanged (8.469%) by the correction of the pipeline sends' overlap (above): the runs with interleaved pipelines
    // move towards their measurements held out too (Llama 2 13B -10.3% to +4.3%), those without one away, with the
    // lower levels (Megatron-Bridge's Llama 3 8B on 8 B200 -5.0% to -11.6%).
    // Raised to 8.77% (8.446% to 8.767%) by the same rule: Blackwell's folds (five runs, and one) now fit the matrix
    // level alone with attention at the published kernels' speed, where one factor had scaled both, and predict the
    // other source's runs worse (GB200 Llama 3 8B -0.7% to +10.2%, GB300 Llama 3.1 405B -13.9% to -17.1%). The rule
    // is kept for what the measured curves say, not for this mean: the mixture-of-experts held-out mean fell from
    // 11.16% to 9.55% and the held-out mean over all 105 training runs from 9.01% to 8.93% (GB300 Qwen3-235B at 128K
    // tokens, nine tenths attention, -21.8% to +8.6%).
    // Raised to 8.78% (8.767% to 8.776%) by a correction to source: GB300's published attention timings taken from the
    // same night and cuDNN (9.26) as GB200's, where the night before's (9.25) had been, within 7% of them everywhere.
    // Lowered to 8.64% (8.776% to 8.630%) by the collectives' share of the chip (above).
    // Lowered to 8.60% (8.630% to 8.593%) by reading the curves at each kernel's time at peak.
    private const double HeldOutMeanErrorRatchetPercent = 8.60;

    // From 37.5% and 178% before the training framework's expert launch times (docs/calibration.md), to 10.0% over the
    // eleven runs then in the set; raised once, to 13.0%, when seven more of the model zoo's published runs joined
    // (GB200, GB300, and long contexts on H100), then 11.5% with recompute modules: the new ones carry gaps
    // calibration.md names; 10.4% with the four dropless runs, which track their forced-balance twins; 9.6% with the
    // model zoo's FSDP run reducing gradients in BF16, as the Megatron-FSDP user guide recommends. Raised once more,
    // to 9.85%, when Hopper's curves were measured on an H100 instead of carried over from A100: the dense held-out
    // mean fell from 9.5% to 8.7%, while the model zoo's H100 Qwen3 runs at 32K to 128K went from +1.8..+12.1% to
    // +3.6..+13.7%. Measured, the ring steps' unmasked attention runs faster than A100's curve had it, which widens
    // the gap calibration.md names for these runs rather than causing it.
    // Raised by 0.01 to 9.86% when the A100 level moved with FSDP's slowdown without recompute: GB300's levels, fitted
    // on curve shapes carried over from A100, moved with it (0.684 to 0.689), and the GB300 mixture-of-experts runs by
    // 0.02 points on average; their held-out mean fell from 12.35% to 12.29%.
    // Raised once more, to 10.1%, with the output head kept in BF16 under FP8: Hopper's level rose from 0.725 to 0.755
    // and Blackwell's from 0.505 to 0.575 (its attention level left at its curves), the routing skew was re-derived
    // (1.73 to 1.78) and the launch times refitted (65 + 55 us to 70 + 45 us); the held-out mean fell from 12.3% to 11.8%.
    // The worst case is Qwen3-30B-A3B, whose whole small layer is host-bound, not only its expert multiplies.
    // 10.05% with DeepSeek-V3's GB200 runs recomputing latent attention's up-projections (mla_up_proj), as their
    // recipe does: BF16 +13.3% to +11.2%, MXFP8 -0.9% to -2.0%.
    // Raised to 10.07% (10.03% to 10.06%) by the model change that lowered the dense mean from 5.57% to 5.45% (above)
    // and the mean over all training cases from 6.50% to 6.39%, which Korthikanti et al.'s per-layer timings support:
    // the dense Blackwell runs' second all-gather raised Blackwell's matrix level one grid step (0.57 to 0.575), which
    // its mixture-of-experts runs feel (GB200 DeepSeek-V3 BF16 +10.6% to +11.2%); the held-out mean fell (below).
    // Lowered to 9.78% (10.06% to 9.772%) by the same correction of the pipeline sends' overlap; the launch times
    // refitted (70 + 45 us to 70 + 60 us). B200 Qwen3-235B MXFP8 moved from -16.3% to -22.6% with Blackwell's level.
    // Lowered to 8.94% (9.772% to 8.937%), the worst to 48% (51.0% to 47.6%), by the published Blackwell and Blackwell
    // Ultra attention timings (above); the launch times refitted (70 + 60 us to 70 + 65 us).
    // Lowered to 8.18% (8.937% to 8.174%), the worst to 42% (47.6% to 41.4%), by the one-factor rule above: the GB300
    // runs' attention at the published kernels' speed; the quantize launch refitted (65 to 75 us), which the B200
    // MXFP8 run, on an x86 host, feels (-23.7% to -27.6%).
    // Lowered to 8.04% (8.174% to 8.034%) with the model zoo's fourth H100 run (PP32 VP3 over 94 layers, the embedding
    // and the loss filling the end chunks), -5.0%.
    // Raised to 8.11% (8.034% to 8.105%) by the same correction of GB300's timings to GB200's night (above): the model
    // zoo's GB300 Qwen3-235B at 128K +8.6% to +10.2%, the held-out mean falling (below).
    // Raised to 8.28% (8.105% to 8.273%) by the collectives' share of the chip (above), each run by -0.4 to +1.0 points:
    // the model zoo's third H100 Qwen3-235B run (Megatron-FSDP over 128 ranks, its expert gathers over one GPU a node,
    // two channels) +4.5% to +5.6%, DeepSeek-V3 BF16 on 256 GB200 +10.5% to +11.2%. The dense means fell (above), and
    // the mean over all 106 training runs from 5.691% to 5.625% (held out 8.85% to 8.79%).
    // Lowered to 8.12% (8.273% to 8.118%), the worst raised to 44.6% (41.5% to 44.5%), by reading the efficiency curves
    // at each kernel's time at peak, which the H100's measured curve supports against A100's (measurements/,
    // docs/calibration.md): the quantize launch refitted (75 to 70 us), B200 Qwen3-235B MXFP8 -27.5% to -25.9%, GB200
    // DeepSeek-V3 BF16 +11.2% to +9.1%, and the host-bound H100 Qwen3-30B, already the worst, +41.5% to +44.5% (the same
    // layout measured twice 25.11's throughput in 25.09, where the model is +5.3%: validation/supplementary).
    private const double MixtureOfExpertsMeanErrorRatchetPercent = 8.12;
    private const double MixtureOfExpertsWorstErrorRatchetPercent = 44.6;

    // Each mixture-of-experts case predicted by the launch times fitted without it (13.8% over the first eleven,
    // 14.9% over eighteen, 13.1% over twenty-two, 12.4% with BF16 gradient reduction in the FSDP run, 12.35% with
    // Hopper's measured curves, 12.3% with GB300's levels refitted as above, 11.85% with the output head in BF16).
    // Raised to 11.9% (11.84% to 11.89%) by a correction of two cases to their recipe, not by a model change: DeepSeek-V3's
    // GB200 runs recompute mla_up_proj, which moves the MXFP8 one and so the launch times fitted without the GB300 and
    // H100 FP8 runs (their held-out errors +0.7% to +2.3% and +1.0% to +1.7%); the in-sample mean fell (above).
    // Raised to 12.1% (11.89% to 12.07%) by the same correction: the Megatron-Bridge Qwen3 and DeepSeek-V3 runs
    // reduce gradients in BF16 too, which moves the launch times fitted without each of them; the in-sample mean moved
    // from 10.02% to 10.03%.
    // Lowered to 11.93% (12.07% to 11.92%) by the same model change.
    // Raised to 11.97% (11.92% to 11.969%) by the same correction, while the in-sample mean fell 0.29 points.
    // Lowered to 11.17% (11.969% to 11.164%) by the published Blackwell and Blackwell Ultra attention timings (above).
    // Lowered to 9.56% (11.164% to 9.551%) by the one-factor rule above.
    // Lowered to 9.15% (9.551% to 9.148%) with the model zoo's fourth H100 run (above).
    // Lowered to 9.09% (9.148% to 9.086%) by the correction of GB300's timings to GB200's night (above).
    // Raised to 9.35% (9.086% to 9.348%) by the collectives' share of the chip (above).
    // Raised to 9.40% (9.348% to 9.398%) by the curves read at each kernel's time at peak (above), while the in-sample
    // mean fell 0.16 points, the dense held-out mean 0.04 and serving's held-out mean 0.8.
    private const double MixtureOfExpertsHeldOutMeanErrorRatchetPercent = 9.40;

    private static readonly Lazy<ValidationSummary> Summary = new(() =>
    {
        var cases = ValidationCaseLoader.LoadAll(Repository.Path("validation", "cases"), Repository.Catalog).Training;
        return ValidationSummary.Of(CrossValidation.WithHeldOut(Repository.Catalog, ValidationRun.Run(cases), () => [.. Repository.CalibrationCases]));
    });

    [Fact]
    public void Set_HasAtLeastSixtyCases_InTheFourRequiredFamiliesAtLeast()
    {
        var summary = Summary.Value;
        Assert.True(summary.Overall.Count >= 60, $"{summary.Overall.Count} cases");
        var families = summary.ByFamily.Select(group => group.Name).ToHashSet();
        Assert.Superset(new HashSet<string> { "nvidia-ampere", "nvidia-hopper", "aws-neuroncore-v2" }, families);
        Assert.Contains(families, family => family.StartsWith("google-tpu", StringComparison.Ordinal));
    }

    [Fact]
    public void TheWorkloadGroups_HoldTheCasesOfEachKind_AndOverlap()
    {
        var summary = Summary.Value;
        var groups = summary.ByWorkload.ToDictionary(group => group.Name, group => group);
        Assert.Equal(["dense", "mixture of experts", "context parallel", "8-bit and narrower formats"], summary.ByWorkload.Select(group => group.Name));
        // Dense and mixture of experts split the set; the others cut across it, so the groups hold more cases than the set.
        Assert.Equal(summary.Overall.Count, groups["dense"].Count + groups["mixture of experts"].Count);
        Assert.True(summary.ByWorkload.Sum(group => group.Count) > summary.Overall.Count);
        // Cases whose workloads their files say, each summarized alone: the model zoo's Qwen3-235B at 128K (BF16, CP8), the
        // Megatron-Bridge GB200 DeepSeek-V3 in MXFP8, MPT-7B at 2,048 tokens in BF16 and NeMo's Llama 2 7B at 128K (FP8, CP4).
        string[] WorkloadsOf(string id) => [.. ValidationSummary.Of([.. summary.Outcomes.Where(outcome => outcome.Case.Id == id)]).ByWorkload.Select(group => group.Name)];
        Assert.Equal(["mixture of experts", "context parallel"], WorkloadsOf("moezoo-h100-qwen3-235b-128k"));
        Assert.Equal(["mixture of experts", "8-bit and narrower formats"], WorkloadsOf("mbridge2511-gb200-deepseekv3-256gpu-fp8-mx"));
        Assert.Equal(["dense"], WorkloadsOf("mpt-a100-7b-seq2048-8gpu"));
        Assert.Equal(["dense", "context parallel", "8-bit and narrower formats"], WorkloadsOf("nemo-longseq-h100-llama2-7b-128k"));
    }

    [Fact]
    public void ASupplementaryCase_FitsItsFamilysLevels_OnlyWhereThePublishedSetHasNoneOfTheFamily()
    {
        // Calibration reads the published and the supplementary cases alike; every supplementary case of a family with
        // published runs keeps itself out (not_fitted), so those levels stay the published set's. TPU v5p and v6e,
        // which the published set lacks, are fitted on theirs.
        var published = Repository.TrainingCases.Select(item => item.Id).ToHashSet(StringComparer.Ordinal);
        var publishedFamilies = Repository.TrainingCases.Select(item => item.Scenario.Cluster.Chip.Family).ToHashSet(StringComparer.Ordinal);
        var supplementary = Repository.CalibrationCases.Where(item => !published.Contains(item.Id)).ToArray();
        Assert.All(supplementary.Where(item => publishedFamilies.Contains(item.Scenario.Cluster.Chip.Family)), item => Assert.False(item.Fitted, item.Id));
        var fitted = supplementary.Where(item => item.Fitted).GroupBy(item => item.Scenario.Cluster.Chip.Family).ToDictionary(group => group.Key, group => group.Count());
        Assert.Equal(new Dictionary<string, int> { ["google-tpu-v5p"] = 16, ["google-tpu-v6e"] = 11 }, fitted);
        Assert.All(fitted.Keys, family => Assert.Equal(fitted[family], Repository.Catalog.Efficiencies[family].Fit.Cases));
    }

    [Fact]
    public void BandCoverage_IsBetweenSeventyAndNinetyFivePercent()
    {
        var coverage = Summary.Value.Overall.BandCoverage;
        Assert.InRange(coverage, 0.70, 0.95);
    }

    [Fact]
    public void EveryCase_HasAHeldOutPrediction()
    {
        var summary = Summary.Value;
        Assert.Equal(summary.Overall.Count, summary.Overall.HeldOutCount);
        Assert.True(summary.Overall.HeldOutMeanAbsoluteErrorPercent >= summary.Overall.MeanAbsoluteErrorPercent - 1e-9,
            "a calibration that never saw a case should not predict it better, on average, than one fitted to it");
    }

    [Fact]
    public void MixtureOfExpertsErrors_DoNotGrowPastTheirRatchet()
    {
        var experts = ValidationGroup.Of("mixture of experts", [.. Summary.Value.Outcomes.Where(outcome => outcome.Case.Scenario.Model.MixtureOfExperts is not null)]);
        Assert.True(experts.Count >= 5, $"{experts.Count} mixture-of-experts cases");
        Assert.True(experts.MeanAbsoluteErrorPercent <= MixtureOfExpertsMeanErrorRatchetPercent, $"mean {experts.MeanAbsoluteErrorPercent:0.00}%");
        Assert.True(experts.MaximumAbsoluteErrorPercent <= MixtureOfExpertsWorstErrorRatchetPercent, $"worst {experts.MaximumAbsoluteErrorPercent:0.00}%");
        Assert.True(experts.HeldOutMeanAbsoluteErrorPercent <= MixtureOfExpertsHeldOutMeanErrorRatchetPercent, $"held out {experts.HeldOutMeanAbsoluteErrorPercent:0.00}%");
    }

    [Fact]
    public void Errors_DoNotGrowPastTheRatchet()
    {
        var overall = ValidationGroup.Of("fitted", [.. Summary.Value.Outcomes.Where(outcome => outcome.Case.Fitted)]);
        Assert.True(overall.MeanAbsoluteErrorPercent <= MeanErrorRatchetPercent, $"mean {overall.MeanAbsoluteErrorPercent:0.00}%");
        Assert.True(overall.MaximumAbsoluteErrorPercent <= WorstErrorRatchetPercent, $"worst {overall.MaximumAbsoluteErrorPercent:0.00}%");
        Assert.True(overall.HeldOutMeanAbsoluteErrorPercent <= HeldOutMeanErrorRatchetPercent, $"held-out mean {overall.HeldOutMeanAbsoluteErrorPercent:0.00}%");
    }
}

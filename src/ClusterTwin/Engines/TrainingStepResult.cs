using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Units;

namespace ClusterTwin.Engines;

/// <summary>
/// The prediction for one training step. A plan that does not divide has <see cref="Valid"/> false, its reasons in
/// <see cref="Problems"/> and no times; a plan that does not fit in memory is still timed and has <see cref="Fits"/> false.
/// </summary>
public sealed record TrainingStepResult
{
    /// <summary>The scenario's name.</summary>
    public required string Scenario { get; init; }

    /// <summary>Whether every degree divides what it splits.</summary>
    public required bool Valid { get; init; }

    private readonly ImmutableArray<string> problems;

    /// <summary>
    /// Why the plan is invalid or does not fit; empty for a plan that runs. The memory shortfall is worded when read:
    /// a search times many layouts over memory and reads the words of few.
    /// </summary>
    public required ImmutableArray<string> Problems
    {
        get
        {
            var words = Valid && Memory is { } memory && memory.Total > MemoryCapacity
                ? problems.Add($"needs {Quantity.FormatLike(memory.Total, MemoryCapacity)} per chip, the {ChipName} has {MemoryCapacity}")
                : problems;
            return Valid && !HostMemoryFits
                ? words.Add($"offloading keeps {Quantity.FormatLike(HostMemory, HostMemoryCapacity!.Value)} per chip in the host's memory, each chip's share of which is {HostMemoryCapacity}")
                : words;
        }

        init => problems = value;
    }

    /// <summary>The chip's name, for the memory shortfall's words.</summary>
    public string ChipName { get; init; } = string.Empty;

    /// <summary>What the reader should know about how the result was obtained (an upper-bound costing, say).</summary>
    public ImmutableArray<string> Warnings { get; init; } = [];

    /// <summary>Chips used.</summary>
    public required long Chips { get; init; }

    /// <summary>Micro-batches per step on each data-parallel replica.</summary>
    public double MicroBatches { get; init; }

    /// <summary>
    /// The time the busiest chip waits, in one mixture-of-experts layer's forward and backward pass of one micro-batch,
    /// for the host's expert launches (<c>simulate --kernels</c>): where the host runs ahead (drop-and-pad routing),
    /// those that outlast the pass's device work; under dropless routing, each multiply's own. Zero for a dense model.
    /// </summary>
    internal Duration ExpertLayerHostWait { get; init; }

    /// <summary>The same for one multi-token prediction module's layer.</summary>
    internal Duration PredictionLayerHostWait { get; init; }

    /// <summary>Where the step's time goes.</summary>
    public StepBreakdown? Breakdown { get; init; }

    /// <summary>The step time.</summary>
    public Duration StepTime => Breakdown?.Total ?? Duration.Zero;

    /// <summary>Low end of the band the measured step time is expected to fall in (10th percentile).</summary>
    public Duration StepTimeLow { get; init; }

    /// <summary>High end of the band (90th percentile).</summary>
    public Duration StepTimeHigh { get; init; }

    /// <summary>What the band is made of: the calibration residuals and each uncertain hardware figure's effect.</summary>
    public ImmutableArray<string> BandSources { get; init; } = [];

    /// <summary>The band's parts as numbers, for comparing two predictions; null for a step simulated without its band.</summary>
    public BandParts? BandParts { get; init; }

    /// <summary>Tokens per step.</summary>
    public double TokensPerStep { get; init; }

    /// <summary>Tokens trained per second, over the whole cluster.</summary>
    public double TokensPerSecond => StepTime.Seconds > 0 ? TokensPerStep / StepTime.Seconds : 0;

    /// <summary>Throughput at the slow end of the band.</summary>
    public double TokensPerSecondLow => StepTimeHigh.Seconds > 0 ? TokensPerStep / StepTimeHigh.Seconds : 0;

    /// <summary>Throughput at the fast end of the band.</summary>
    public double TokensPerSecondHigh => StepTimeLow.Seconds > 0 ? TokensPerStep / StepTimeLow.Seconds : 0;

    /// <summary>Model FLOPs per step (Megatron convention: forward and backward, attention counted without causal masking, no recompute).</summary>
    public Flops ModelFlopsPerStep { get; init; }

    /// <summary>FLOPs the hardware executes per step, including recompute.</summary>
    public Flops HardwareFlopsPerStep { get; init; }

    /// <summary>The part of <see cref="HardwareFlopsPerStep"/> a low-precision format runs in BF16 (fused attention, the output head); zero in BF16.</summary>
    public Flops Bf16FlopsPerStep { get; init; }

    /// <summary>Bytes the cluster's chips read and write in high-bandwidth memory per step, recompute and optimizer included.</summary>
    public Bytes MemoryTrafficPerStep { get; init; }

    /// <summary>Bytes the cluster's chips send on their links per step (collectives' algorithmic volumes).</summary>
    public Bytes LinkTrafficPerStep { get; init; }

    /// <summary>
    /// Bytes each chip sends per step that leave its system, by the highest scale-out tier they cross (index 0: the leaf):
    /// what the step asks of the scale-out network (<see cref="Sharing.SharedFabric"/>). Empty where nothing leaves a system,
    /// and in a plan search's steps, which do not work it out.
    /// </summary>
    public ImmutableArray<Bytes> ScaleOutTrafficPerChip { get; init; } = [];

    /// <summary>The peak rate MFU and HFU are measured against (dense, at the job's precision).</summary>
    public FlopRate PeakRatePerChip { get; init; }

    /// <summary>Model FLOPs utilization.</summary>
    public double ModelFlopsUtilization => Utilization(ModelFlopsPerStep);

    /// <summary>
    /// Model FLOPs per step with attention counted over the causal half of its products, as NeMo's and
    /// Megatron-Bridge's formulas count since 2025 (<see cref="Analytical.AnalyticalEngine.ModelFlops"/>).
    /// </summary>
    public Flops CausalModelFlopsPerStep { get; init; }

    /// <summary>
    /// <see cref="ModelFlopsUtilization"/> with the causal count: lower, by the attention's half, and the figure to set
    /// beside a published MFU of that convention; for a long sequence the two differ by a third or more.
    /// </summary>
    public double CausalModelFlopsUtilization => Utilization(CausalModelFlopsPerStep);

    /// <summary>Hardware FLOPs utilization.</summary>
    public double HardwareFlopsUtilization => Utilization(HardwareFlopsPerStep);

    /// <summary>Memory per chip on the most loaded stage.</summary>
    public MemoryBreakdown? Memory { get; init; }

    /// <summary>The chip's memory capacity.</summary>
    public Bytes MemoryCapacity { get; init; }

    /// <summary>Bytes each chip keeps in its host's memory: the activations it offloads; zero where it offloads none.</summary>
    public Bytes HostMemory { get; init; }

    /// <summary>Each chip's share of its host's memory; null where the catalogue has none, and then <see cref="HostMemory"/> is not checked.</summary>
    public Bytes? HostMemoryCapacity { get; init; }

    /// <summary>Whether what the chip offloads fits in its share of the host's memory (true where nothing bounds it).</summary>
    public bool HostMemoryFits => HostMemoryCapacity is not { } capacity || HostMemory <= capacity;

    /// <summary>Whether the memory per chip is within capacity, and what it offloads within its share of the host's.</summary>
    public bool Fits => Valid && Memory is not null && Memory.Total <= MemoryCapacity && HostMemoryFits;

    /// <summary>The step's energy, chips to facility; null where <see cref="EnergyMissing"/> says why.</summary>
    public StepEnergy? Energy { get; init; }

    /// <summary>Why the catalogue cannot price the step's energy; null when it can.</summary>
    public string? EnergyMissing { get; init; }

    /// <summary>The step's cost; null where <see cref="CostMissing"/> says why.</summary>
    public StepCost? Cost { get; init; }

    /// <summary>Why no cost is worked out; null when one is (or energy is missing for an owner's electricity).</summary>
    public string? CostMissing { get; init; }

    /// <summary>
    /// The step time before the chips' power limit: the engine's, which the energy model throttles where the chips would
    /// average more than their limit (<see cref="StepBreakdown.PowerThrottling"/>; the same as <see cref="StepTime"/> where not).
    /// </summary>
    public Duration UnthrottledStepTime => Breakdown switch
    {
        null => Duration.Zero,
        { PowerThrottling.Seconds: 0 } breakdown => breakdown.Total,
        var breakdown => (breakdown with { PowerThrottling = Duration.Zero }).Total,
    };

    /// <summary>Whether the chips throttle at their power limit: the step is longer than the engine's.</summary>
    public bool Throttled => Breakdown is { } breakdown && breakdown.PowerThrottling > Duration.Zero;

    /// <summary>Steps of the whole run, when the job names its tokens.</summary>
    public double? StepsToTrain => TokensToTrain is { } tokens && TokensPerStep > 0 ? Math.Ceiling(tokens / TokensPerStep) : null;

    /// <summary>Tokens of the whole run, when the job names them.</summary>
    public double? TokensToTrain { get; init; }

    /// <summary>Wall time of the whole run, at this step time and no failures.</summary>
    public Duration? TimeToTrain => StepsToTrain is { } steps ? StepTime * steps : null;

    /// <summary>
    /// The whole run with its interruptions, checkpoints and restarts, where the job names its tokens and the scenario
    /// its resilience settings (the catalogue's by default).
    /// </summary>
    public Reliability.RunGoodput? Run { get; init; }

    /// <summary>
    /// This result with its run also drawn event by event, as many times as <paramref name="settings"/> ask
    /// (<see cref="Reliability.RunGoodput.Simulated"/>); itself where there is no run or no settings.
    /// </summary>
    public TrainingStepResult WithSimulatedRuns(Reliability.ResilienceSettings? settings) =>
        Run is { } run && settings is { } resilience ? this with { Run = run.WithSimulatedRuns(resilience) } : this;

    /// <summary>Chip-hours of the whole run.</summary>
    public double? ChipHours => TimeToTrain is { } time ? time.Seconds / 3600 * Chips : null;

    private double Utilization(Flops work) =>
        StepTime.Seconds > 0 && PeakRatePerChip.OperationsPerSecond > 0 ? work / (PeakRatePerChip * StepTime) / Chips : 0;
}

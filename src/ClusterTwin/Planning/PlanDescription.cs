using System.Globalization;
using ClusterTwin.Parallelism;

namespace ClusterTwin.Planning;

/// <summary>Short, stable descriptions of a layout, for tables and explanations.</summary>
public static class PlanDescription
{
    /// <summary>The searched dimensions of <paramref name="plan"/> as name-value pairs, in a fixed order.</summary>
    public static IEnumerable<(string Name, string Value)> Fields(ParallelPlan plan) => Fields(plan, namesRing: false);

    private static IEnumerable<(string Name, string Value)> Fields(ParallelPlan plan, bool namesRing)
    {
        ArgumentNullException.ThrowIfNull(plan);
        yield return ("TP", Number(plan.TensorParallelism));
        yield return ("CP", Context(plan, namesRing));
        yield return ("EP", Number(plan.ExpertParallelism));
        yield return ("PP", Number(plan.PipelineParallelism));
        yield return ("VP", Number(plan.VirtualStages));
        yield return ("DP", Number(plan.DataParallelism));
        yield return ("micro-batch", Number(plan.MicroBatchSize));
        yield return ("SP", plan.SequenceParallelism ? "on" : "off");
        yield return ("recompute", RecomputeModuleNames.Describe(plan));
        yield return ("ZeRO", Number(plan.ZeroStage));
        yield return ("offload", Number(plan.OffloadedLayers));
    }

    /// <summary>The searched dimensions of <paramref name="plan"/> on one line, with its pipeline schedule (other than 1F1B) and its explicit stage layers where it gives them.</summary>
    public static string Of(ParallelPlan plan) => string.Join(" ", Fields(plan).Select(field => field.Name + " " + field.Value)) +
        (plan.Schedule == PipelineScheduleKind.OneForwardOneBackward ? string.Empty : $" schedule {PipelineScheduleKeys.Key(plan.Schedule)}") +
        (plan.FirstStageLayers is null && plan.LastStageLayers is null ? string.Empty
            : $" (layers on the first rank {plan.FirstStageLayers?.ToString(CultureInfo.InvariantCulture) ?? "even"}, on the last {plan.LastStageLayers?.ToString(CultureInfo.InvariantCulture) ?? "even"})");

    /// <summary>The degrees that shape <paramref name="plan"/>, for a narrow column: those above 1, data parallelism always, and the ZeRO stage ("TP 4 CP 2 PP 9 DP 16 ZeRO 1").</summary>
    public static string Degrees(ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var fields = Fields(plan).Where(field => field.Name is "TP" or "CP" or "EP" or "PP" or "VP" ? field.Value != "1" : field.Name is "DP" || (field.Name == "ZeRO" && field.Value != "0"));
        return string.Join(" ", fields.Select(field => field.Name + " " + field.Value));
    }

    /// <summary>
    /// The searched fields of <paramref name="plan"/> as a scenario's <c>plan</c> block on one line, in the keys the
    /// scenario format reads, so that a search's best layout can be pasted into a scenario and simulated: "plan:
    /// {tensor: 8, pipeline: 4, ...}". Fields the search does not vary (rank order, overlaps, dispatch) are left to the
    /// scenario, as the search took them from it.
    /// </summary>
    public static string ScenarioBlock(ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var recompute = plan.Recompute != RecomputePolicy.Selective || plan.RecomputeModules == RecomputeModules.CoreAttention
            ? plan.Recompute.ToString().ToLowerInvariant()
            : $"[{string.Join(", ", RecomputeModuleNames.Names(plan.RecomputeModules))}]";
        // Context and expert parallelism, where off, are left to the loader's default of 1.
        var fields = new List<string> { $"tensor: {Number(plan.TensorParallelism)}" };
        if (plan.ContextParallelism > 1)
        {
            fields.Add($"context: {Number(plan.ContextParallelism)}");
            fields.Add($"context_communication: {ContextCommunicationKeys.Key(plan.ContextCommunication)}");
        }

        if (plan.ExpertParallelism > 1)
        {
            fields.Add($"expert: {Number(plan.ExpertParallelism)}");
        }

        fields.AddRange(
        [
            $"pipeline: {Number(plan.PipelineParallelism)}", $"virtual_stages: {Number(plan.VirtualStages)}",
            $"data: {Number(plan.DataParallelism)}", $"micro_batch: {Number(plan.MicroBatchSize)}", $"sequence_parallel: {(plan.SequenceParallelism ? "true" : "false")}",
            $"recompute: {recompute}", $"zero: {Number(plan.ZeroStage)}",
        ]);
        if (plan.OffloadedLayers > 0)
        {
            fields.Add($"offload_activations: {Number(plan.OffloadedLayers)}");
        }

        if (plan.Schedule != PipelineScheduleKind.OneForwardOneBackward)
        {
            fields.Add($"schedule: {PipelineScheduleKeys.Key(plan.Schedule)}");
        }

        return $"plan: {{{string.Join(", ", fields)}}}";
    }

    /// <summary>What <paramref name="other"/> changes against <paramref name="plan"/>: "TP 8 -> 4, micro-batch 1 -> 2".</summary>
    public static string Differences(ParallelPlan plan, ParallelPlan other)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(other);
        // Where only the exchanges differ, both sides name theirs: "CP 8 (ring) -> 8 (all-to-all)".
        var namesExchange = plan.ContextCommunication != other.ContextCommunication;
        var changes = Fields(plan, namesExchange).Zip(Fields(other, namesExchange), (mine, theirs) => (mine.Name, From: mine.Value, To: theirs.Value))
            .Where(item => item.From != item.To)
            .Select(item => $"{item.Name} {item.From} -> {item.To}")
            .ToList();
        if (plan.Schedule != other.Schedule)
        {
            changes.Add($"schedule {PipelineScheduleKeys.Key(plan.Schedule)} -> {PipelineScheduleKeys.Key(other.Schedule)}");
        }

        return changes.Count == 0 ? "the same layout" : string.Join(", ", changes);
    }

    /// <summary>
    /// Where each chip runs several ranks (a Neuron chip, one per NeuronCore), what the tensor degree is in ranks, as a
    /// clause to follow the plan ("; 2 ranks per chip, so tensor parallelism runs over 32 ranks"); empty otherwise.
    /// </summary>
    public static string Ranks(int ranksPerChip, int tensorParallelism) => ranksPerChip > 1
        ? $"; {ranksPerChip} ranks per chip, so tensor parallelism runs over {(long)tensorParallelism * ranksPerChip} ranks"
        : string.Empty;

    /// <summary>The context-parallel degree, with its exchange where it is not ring attention: "4" or "4 (all-gather)".</summary>
    public static string Context(ParallelPlan plan) => Context(plan, namesRing: false);

    private static string Context(ParallelPlan plan, bool namesRing)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan.ContextParallelism > 1 && (namesRing || plan.ContextCommunication != ContextCommunication.Ring)
            ? $"{Number(plan.ContextParallelism)} ({ContextCommunicationKeys.Key(plan.ContextCommunication)})"
            : Number(plan.ContextParallelism);
    }

    private static string Number(int value) => value.ToString(CultureInfo.InvariantCulture);
}

using ClusterTwin.Serving;
using ClusterTwin.Units;

namespace ClusterTwin.Cli.Reports;

/// <summary>Latency objectives as the serving reports word them: an objective left out is unbounded, and said so.</summary>
internal static class ObjectivesText
{
    /// <summary>What a request must do to count, completing "the requests ...".</summary>
    public static string Goal(ServingObjectives objectives)
    {
        static string? Within(Duration limit) => ServingObjectives.Bounded(limit) is null ? null : limit.ToString();
        var (first, later) = (Within(objectives.TimeToFirstToken), Within(objectives.TimePerOutputToken));
        return (first, later) switch
        {
            (null, null) => "complete (no latency objective was given)",
            (_, null) => $"get their first token within {first} (no objective on later tokens)",
            (null, _) => $"get later tokens within {later} each on average (no objective on the first)",
            _ => $"get their first token within {first} and later tokens within {later} each on average",
        };
    }
}

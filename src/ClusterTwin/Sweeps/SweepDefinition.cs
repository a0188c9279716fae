using System.Collections.Immutable;
using ClusterTwin.Planning;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Sweeps;

/// <summary>One field a sweep varies: its path in the scenario (<c>cluster.count</c>) and the values it takes.</summary>
/// <param name="Path">The field's dotted path from the scenario's top level.</param>
/// <param name="Values">The values, as the sweep file gives them (a scalar, or a mapping such as a whole plan block).</param>
/// <param name="Shown">Each value as text, for reports.</param>
public sealed record SweepAxis(string Path, ImmutableArray<YamlNode> Values, ImmutableArray<string> Shown);

/// <summary>
/// A sweep: a base scenario and the fields it varies, every combination a point, numbered with the last field varying
/// fastest. A point is the base scenario with its values set, simulated (or, where <see cref="Search"/>, at its best
/// layout). Points are independent, so a sweep splits into shards that run anywhere and merge back by number.
/// </summary>
/// <param name="Name">A label for reports.</param>
/// <param name="File">The sweep file.</param>
/// <param name="ScenarioFile">The base scenario's file.</param>
/// <param name="ScenarioText">The base scenario's text, read once: every point starts from it.</param>
/// <param name="Axes">The fields varied, in the file's order.</param>
/// <param name="Search">Whether each point is taken at its best layout (the base's plan fields pin the search), or simulated with its plan.</param>
/// <param name="Objective">What the search minimizes.</param>
/// <param name="Fingerprint">A hash of the sweep's and the base scenario's text: shards of one sweep carry the same.</param>
public sealed record SweepDefinition(string Name, string File, string ScenarioFile, string ScenarioText, ImmutableArray<SweepAxis> Axes, bool Search, PlanObjective Objective, string Fingerprint)
{
    /// <summary>Whether the base is a serving scenario (its points served request by request, as <c>serve</c> does), not a training one.</summary>
    public bool Serving { get; init; }

    /// <summary>Whether the base is an RL post-training scenario (each point a step of <c>rl</c>), not a training or serving one.</summary>
    public bool Reinforcement { get; init; }

    /// <summary>Whether the base is a shared cluster (each point a run of <c>share</c>: several jobs on one network).</summary>
    public bool Shared { get; init; }

    /// <summary>The kind of the base scenario, as a sweep's lines name it: <c>training</c>, <c>serving</c>, <c>rl</c> or <c>share</c>.</summary>
    public string Kind => Reinforcement ? "rl" : Shared ? "share" : Serving ? "serving" : "training";

    /// <summary>For a serving sweep, the share of requests within their objectives that makes a point count among the best (0.9, as <c>serve --capacity</c> and <c>serve-search</c> take by default).</summary>
    public double Attainment { get; init; } = 0.9;

    /// <summary>The most points a sweep may have.</summary>
    public const long MostPoints = 100_000_000;

    /// <summary>How many points: the product of the axes' value counts.</summary>
    public long Points => Axes.Aggregate(1L, (product, axis) => product * axis.Values.Length);

    /// <summary>The value index of each axis at point <paramref name="point"/>, the last axis varying fastest.</summary>
    public int[] Coordinates(long point)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(point);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(point, Points);
        var coordinates = new int[Axes.Length];
        for (var axis = Axes.Length - 1; axis >= 0; axis--)
        {
            var count = Axes[axis].Values.Length;
            coordinates[axis] = (int)(point % count);
            point /= count;
        }

        return coordinates;
    }

    /// <summary>Each axis's path and shown value at point <paramref name="point"/>.</summary>
    public ImmutableArray<(string Path, string Value)> ValuesAt(long point)
    {
        var coordinates = Coordinates(point);
        return [.. Axes.Select((axis, index) => (axis.Path, axis.Shown[coordinates[index]]))];
    }
}

/// <summary>One of <see cref="Count"/> shards of a sweep: the points whose number leaves <see cref="Index"/> divided by the count (dealt round, so every shard gets a like mix).</summary>
/// <param name="Index">This shard, from 0.</param>
/// <param name="Count">The shards in all.</param>
public readonly record struct SweepShard(int Index, int Count)
{
    /// <summary>The whole sweep as one shard.</summary>
    public static SweepShard Whole => new(0, 1);

    /// <summary>Whether point <paramref name="point"/> is this shard's.</summary>
    public bool Holds(long point) => point % Count == Index;

    /// <summary>This shard's points of <paramref name="points"/>, in order.</summary>
    public IEnumerable<long> Of(long points)
    {
        for (long point = Index; point < points; point += Count)
        {
            yield return point;
        }
    }

    /// <summary>"3/16".</summary>
    public override string ToString() => $"{Index}/{Count}";
}

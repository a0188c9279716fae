using ClusterTwin.Hardware;

namespace ClusterTwin.Claims;

/// <summary>What a claim's ratio compares.</summary>
public enum ClaimMetric
{
    /// <summary>Dense FP8 (or MXFP8) peak rate.</summary>
    PeakFp8,

    /// <summary>Dense BF16 peak rate.</summary>
    PeakBf16,

    /// <summary>Dense FP4 (or MXFP4) peak rate.</summary>
    PeakFp4,

    /// <summary>High-bandwidth memory capacity.</summary>
    MemoryCapacity,

    /// <summary>High-bandwidth memory bandwidth.</summary>
    MemoryBandwidth,

    /// <summary>Scale-up link bandwidth.</summary>
    ScaleUpBandwidth,

    /// <summary>Dense FP8 peak rate per watt of power limit: the spec-sheet reading of energy efficiency.</summary>
    PeakFp8PerWatt,

    /// <summary>The most chips one cluster holds, as the claim states it (no catalogue figure to compare).</summary>
    Scale,
}

/// <summary>A vendor's published claim, as published, with the catalogue entries its ratio compares.</summary>
/// <param name="Id">The claim's id in the reference (C1, C2...).</param>
/// <param name="Statement">The claim as published.</param>
/// <param name="Source">Its source id.</param>
/// <param name="Status">How it was obtained (official, reported).</param>
/// <param name="Published">The ratio the claim states.</param>
/// <param name="Metric">What the ratio compares.</param>
/// <param name="Subject">The chip or system claimed to be better (a catalogue id).</param>
/// <param name="Baseline">The chip or system it is compared with.</param>
/// <param name="Note">What a reader should know (a projection, a second wording).</param>
public sealed record Claim(string Id, string Statement, string Source, FigureStatus Status, double Published, ClaimMetric Metric, string Subject, string Baseline, string? Note);

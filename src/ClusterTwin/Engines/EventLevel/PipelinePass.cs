namespace ClusterTwin.Engines.EventLevel;

/// <summary>What a pass computes.</summary>
public enum PassKind
{
    /// <summary>The forward pass.</summary>
    Forward,

    /// <summary>The whole backward pass: the input's gradient, then the weights'.</summary>
    Backward,

    /// <summary>The backward pass's input gradient alone, which the rank before waits for (a zero-bubble schedule's B).</summary>
    InputGradient,

    /// <summary>The backward pass's weight gradients alone, which nobody waits for (a zero-bubble schedule's W).</summary>
    WeightGradient,
}

/// <summary>How reports name a <see cref="PassKind"/>.</summary>
public static class PassKindNames
{
    /// <summary>"forward", "backward", "input gradient" or "weight gradient".</summary>
    public static string Name(PassKind kind) => kind switch
    {
        PassKind.Forward => "forward",
        PassKind.InputGradient => "input gradient",
        PassKind.WeightGradient => "weight gradient",
        _ => "backward",
    };

    /// <summary>The letter a timeline labels the pass with, as the zero-bubble papers draw them: F, B (the input gradient too) or W.</summary>
    public static string Letter(PassKind kind) => kind switch
    {
        PassKind.Forward => "F",
        PassKind.WeightGradient => "W",
        _ => "B",
    };
}

/// <summary>One pass of one micro-batch through one chunk of a pipeline rank.</summary>
/// <param name="Kind">What the pass computes.</param>
/// <param name="MicroBatch">Which micro-batch of the step, from 0 (under DualPipe, of its direction's).</param>
/// <param name="Chunk">Which of the rank's chunks (virtual stages), from 0; under DualPipe, the direction: 0 from the first rank, 1 from the last.</param>
/// <param name="PairedWithNext">
/// A forward pass that runs with the backward pass after it as one (DualPipe's F&amp;B): both start once both their
/// inputs are there, and the forward's output leaves with the backward's.
/// </param>
public readonly record struct PipelinePass(PassKind Kind, int MicroBatch, int Chunk, bool PairedWithNext = false)
{
    /// <summary>A forward (<paramref name="backward"/> false) or whole backward pass.</summary>
    public PipelinePass(bool backward, int microBatch, int chunk)
        : this(backward ? PassKind.Backward : PassKind.Forward, microBatch, chunk)
    {
    }

    /// <summary>Whether the pass sends a gradient back toward the first stage: a whole backward pass or an input gradient.</summary>
    public bool Backward => Kind is PassKind.Backward or PassKind.InputGradient;
}

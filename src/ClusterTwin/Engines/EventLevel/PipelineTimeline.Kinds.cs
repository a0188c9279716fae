using System.Collections.Immutable;

namespace ClusterTwin.Engines.EventLevel;

// The replay's helper types: inputs, what a kept replay records, and the constants its instantiations fold.
public sealed partial class PipelineTimeline
{
    /// <summary>Where a pass's input comes from: a forward (or else a backward) pass's output at a slot, sent from another rank or not.</summary>
    private readonly record struct Input(bool Forward, int Slot, bool Sent)
    {
        public static Input None => new(true, -1, false);
    }

    /// <summary>
    /// What a kept replay records beside each span: the spans that released each pass's output, each rank's last span,
    /// and for each span the one it waited for (its input's, or its rank's previous), to find the critical path.
    /// </summary>
    private sealed class Recording(ImmutableArray<TimelineSpan>.Builder spans, int slots, int pipeline)
    {
        public ImmutableArray<TimelineSpan>.Builder Spans => spans;

        public int[] ForwardSpan { get; } = new int[slots];

        public int[] BackwardSpan { get; } = new int[slots];

        public int[] LastSpan { get; } = Enumerable.Repeat(-1, pipeline).ToArray();

        public List<int> Cause { get; } = new(spans.Capacity);

        /// <summary>The span that released <paramref name="input"/>'s output; -1 for none.</summary>
        public int SpanOf(Input input) => input.Slot < 0 ? -1 : (input.Forward ? ForwardSpan : BackwardSpan)[input.Slot];
    }

    /// <summary>Whether a replay keeps its spans: a constant per type, so that the JIT drops the keeping where it is false.</summary>
    private interface IKeeping
    {
        static abstract bool Keeps { get; }
    }

    /// <summary>A replay that keeps every span and its cause (<see cref="Of"/>).</summary>
    private readonly struct Kept : IKeeping
    {
        public static bool Keeps => true;
    }

    /// <summary>A replay that keeps nothing (<see cref="Pipeline"/>, the straggler draws').</summary>
    private readonly struct Unkept : IKeeping
    {
        public static bool Keeps => false;
    }

    /// <summary>What a replay's order is: worked out as it runs (1F1B), or stored, and mirrored (DualPipe's two directions): constants per type.</summary>
    private interface IOrder
    {
        static abstract bool Stored { get; }

        static abstract bool Mirrored { get; }
    }

    /// <summary>1F1B's order, plain or interleaved: forward and whole backward passes, worked out from each rank's warm-up.</summary>
    private readonly struct WorkedOutOrder : IOrder
    {
        public static bool Stored => false;

        public static bool Mirrored => false;
    }

    /// <summary>Zero bubble's stored order.</summary>
    private readonly struct StoredOrder : IOrder
    {
        public static bool Stored => true;

        public static bool Mirrored => false;
    }

    /// <summary>DualPipe's stored order over its two directions.</summary>
    private readonly struct MirroredOrder : IOrder
    {
        public static bool Stored => true;

        public static bool Mirrored => true;
    }
}

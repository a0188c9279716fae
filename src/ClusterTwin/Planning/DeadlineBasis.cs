namespace ClusterTwin.Planning;

/// <summary>Which time to train must meet the deadline.</summary>
public enum DeadlineBasis
{
    /// <summary>The prediction.</summary>
    Prediction,

    /// <summary>The slow end of the prediction's band (its P90 step time): a deadline met nine times in ten.</summary>
    SlowEnd,
}

namespace ClusterTwin.Catalog;

/// <summary>A document a catalogue figure comes from.</summary>
/// <param name="Id">The id figures cite ("S25").</param>
/// <param name="Title">What it is.</param>
/// <param name="Url">Where to read it, where it has an address.</param>
/// <param name="Date">Its date, as precise as known.</param>
/// <param name="Kind">official (the vendor's own) or reported.</param>
public sealed record SourceCitation(string Id, string Title, string? Url, string? Date, string Kind);

using System.Collections.Immutable;

namespace ClusterTwin.Catalog;

/// <summary>One problem in an input file: where it is, which field, what is wrong and what would be right.</summary>
/// <param name="File">The file, as the user named it.</param>
/// <param name="Line">1-based line, or 0 when the problem is the whole file.</param>
/// <param name="Field">Dotted path of the field ("peak_rates.bf16.value").</param>
/// <param name="Message">What is wrong, and what is expected.</param>
public sealed record Diagnostic(string File, int Line, string Field, string Message)
{
    /// <summary>Prints as <c>file:line: field: message</c>.</summary>
    public override string ToString() =>
        (Line > 0 ? $"{File}:{Line}" : File) + (Field.Length > 0 ? $": {Field}" : string.Empty) + $": {Message}";
}

/// <summary>Input that cannot be used, with every problem found in it.</summary>
public sealed class InputException : Exception
{
    /// <summary>Creates the exception from the problems found.</summary>
    public InputException(IEnumerable<Diagnostic> diagnostics)
        : base(string.Join(Environment.NewLine, diagnostics))
    {
        Diagnostics = [.. diagnostics];
    }

    /// <summary>Creates the exception from one problem.</summary>
    public InputException(string file, string message)
        : this([new Diagnostic(file, 0, string.Empty, message)])
    {
    }

    /// <summary>Every problem found.</summary>
    public ImmutableArray<Diagnostic> Diagnostics { get; }
}

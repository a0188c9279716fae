using YamlDotNet.Core;
using YamlDotNet.Core.Events;

namespace ClusterTwin.Catalog;

/// <summary>
/// A parser that stops a YAML file nested deeper than <see cref="Limit"/> levels. YamlDotNet's parser reads any depth,
/// but its representation model builds each level in a recursive call, so a file nested tens of thousands deep
/// overflows the stack, which .NET cannot catch, and one a few thousand deep takes seconds. Counting the parser's own
/// events is exact: what opens a level is what the model would recurse into.
/// </summary>
internal sealed class YamlNesting(IParser parser) : IParser
{
    /// <summary>The deepest nesting read; a ClusterTwin file nests a few levels.</summary>
    public const int Limit = 200;

    private int depth;

    /// <inheritdoc />
    public ParsingEvent? Current => parser.Current;

    /// <inheritdoc />
    public bool MoveNext()
    {
        if (!parser.MoveNext())
        {
            return false;
        }

        if (parser.Current is MappingStart or SequenceStart && ++depth > Limit)
        {
            throw new TooDeepException(parser.Current.Start);
        }

        if (parser.Current is MappingEnd or SequenceEnd)
        {
            depth--;
        }

        return true;
    }

    /// <summary>Where a file passed <see cref="Limit"/>.</summary>
    public sealed class TooDeepException(Mark start) : YamlException(start, start, $"nested deeper than {Limit} levels")
    {
    }
}

namespace ClusterTwin.Catalog;

/// <summary>
/// How deep a YAML text nests, found before it is parsed: YamlDotNet's parser recurses once per level, so a file
/// nested tens of thousands deep overflows the stack, which .NET cannot catch, and one a few thousand deep takes
/// seconds. A ClusterTwin file nests a few levels; <see cref="Limit"/> leaves room for any a person would write.
/// </summary>
/// <remarks>
/// Counts brackets and braces outside quoted scalars, comments and block scalars (<c>|</c>, <c>&gt;</c>), and a
/// block level for each column of indentation and each compact entry (<c>- - x</c>) at a line's start. Both
/// over-count rather than under-count: a bracket inside a plain scalar counts, and indentation is a bound on block
/// depth, not the depth itself.
/// </remarks>
internal static class YamlNesting
{
    /// <summary>The deepest nesting read: flow collections open at once, or a line's indentation and compact entries.</summary>
    public const int Limit = 200;

    /// <summary>The first line (from 1) whose nesting passes <see cref="Limit"/>, or null where none does.</summary>
    public static int? LineBeyondLimit(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var flow = 0;
        int? blockScalarParent = null;
        var lines = text.Split('\n');
        for (var index = 0; index < lines.Length; index++)
        {
            var line = lines[index].TrimEnd('\r');
            var indentation = line.Length - line.TrimStart(' ', '\t').Length;
            if (blockScalarParent is { } parent)
            {
                // A block scalar's lines are text: they run while indented beyond the line that opened it.
                if (line.Trim().Length == 0 || indentation > parent)
                {
                    continue;
                }

                blockScalarParent = null;
            }

            if (flow == 0 && Block(line, indentation) > Limit)
            {
                return index + 1;
            }

            flow = Flow(line, flow, out var deepest, out var opensBlockScalar);
            if (deepest > Limit)
            {
                return index + 1;
            }

            if (opensBlockScalar)
            {
                blockScalarParent = indentation;
            }
        }

        return null;
    }

    // The line's indentation and the compact entries ("- ", "? ") after it.
    private static int Block(string line, int indentation)
    {
        var depth = indentation;
        var position = indentation;
        while (position + 1 < line.Length && line[position] is '-' or '?' && line[position + 1] is ' ' or '\t')
        {
            depth += 2;
            position += 2;
            while (position < line.Length && line[position] is ' ' or '\t')
            {
                position++;
            }
        }

        return depth;
    }

    // The flow depth after the line, from the depth before it; the deepest it reached; whether the line ends by opening
    // a block scalar.
    private static int Flow(string line, int depth, out int deepest, out bool opensBlockScalar)
    {
        opensBlockScalar = false;
        deepest = depth;
        var previous = ' ';
        for (var position = 0; position < line.Length; position++)
        {
            var character = line[position];
            if (character == '#' && previous is ' ' or '\t')
            {
                break;
            }

            if (character is '\'' or '"' && previous is ' ' or '\t' or ':' or '-' or '[' or '{' or ',' or '?')
            {
                position = QuoteEnd(line, position);
                previous = character;
                continue;
            }

            if (character is '[' or '{')
            {
                deepest = Math.Max(deepest, ++depth);
            }
            else if (character is ']' or '}')
            {
                depth = Math.Max(0, depth - 1);
            }
            else if (character is '|' or '>' && previous is ' ' && depth == 0 && IsBlockScalarHeader(line, position))
            {
                opensBlockScalar = true;
                break;
            }

            previous = character;
        }

        return depth;
    }

    // Where the quoted scalar opened at start ends on its line (the line's end if it runs on: a multi-line quoted
    // scalar's later lines are then read as plain text, which only over-counts).
    private static int QuoteEnd(string line, int start)
    {
        var quote = line[start];
        for (var position = start + 1; position < line.Length; position++)
        {
            if (quote == '"' && line[position] == '\\')
            {
                position++;
            }
            else if (line[position] == quote)
            {
                if (quote == '\'' && position + 1 < line.Length && line[position + 1] == '\'')
                {
                    position++;
                    continue;
                }

                return position;
            }
        }

        return line.Length;
    }

    // "|", ">", with chomping and indentation indicators, then nothing but a comment.
    private static bool IsBlockScalarHeader(string line, int position)
    {
        var rest = line[(position + 1)..].TrimStart('-', '+', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9').TrimStart(' ', '\t');
        return rest.Length == 0 || rest[0] == '#';
    }
}

using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads a bibliography file of <c>catalog/sources/</c>.</summary>
internal static class SourceReader
{
    public static IEnumerable<SourceCitation> Read(YamlReader reader)
    {
        if (reader.Root is null)
        {
            yield break;
        }

        foreach (var (key, node) in reader.Root.Children)
        {
            var id = YamlReader.Scalar(key) ?? string.Empty;
            if (node is not YamlMappingNode entry)
            {
                reader.Error(node, id, "expected {title, url, date, kind}");
                continue;
            }

            reader.CheckKeys(entry, id, "title", "url", "date", "kind", "note");
            var title = reader.String(entry, "title", id);
            var kind = reader.String(entry, "kind", id);
            if (kind is not null and not ("official" or "reported"))
            {
                reader.Error(YamlReader.Child(entry, "kind"), $"{id}.kind", $"'{kind}' is not official or reported");
            }

            if (title is not null && kind is not null)
            {
                yield return new SourceCitation(id, title, reader.String(entry, "url", id, required: false), reader.String(entry, "date", id, required: false), kind);
            }
        }
    }
}

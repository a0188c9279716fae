using System.Globalization;
using ClusterTwin.Workloads;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads a model architecture: a file of <c>catalog/models/</c> or a model written inline in a scenario.</summary>
internal static class ModelReader
{
    private static readonly Dictionary<string, FeedForwardActivation> Activations = new() { ["gelu"] = FeedForwardActivation.Gelu, ["swiglu"] = FeedForwardActivation.SwiGlu, ["squared-relu"] = FeedForwardActivation.SquaredRelu };
    private static readonly Dictionary<string, PositionEmbedding> Positions = new() { ["learned"] = PositionEmbedding.Learned, ["rotary"] = PositionEmbedding.Rotary, ["alibi"] = PositionEmbedding.Alibi };
    private static readonly Dictionary<string, LocalAttentionKind> LocalKinds = new() { ["sliding"] = LocalAttentionKind.Sliding, ["chunked"] = LocalAttentionKind.Chunked };
    private static readonly Dictionary<string, Normalization> Normalizations = new() { ["layernorm"] = Normalization.LayerNorm, ["rmsnorm"] = Normalization.RmsNorm };

    public static ModelArchitecture? Read(YamlReader reader, YamlMappingNode? map, string path)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, path, "id", "name", "sources", "layers", "hidden_size", "attention_heads", "key_value_heads", "head_size",
            "feed_forward_size", "feed_forward_activation", "vocabulary_size", "position_embedding", "normalization", "tied_embeddings",
            "max_sequence_length", "parameters", "note", "mixture_of_experts", "latent_attention", "multi_token_prediction", "local_attention");

        var id = reader.String(map, "id", path);
        var name = reader.String(map, "name", path, required: false) ?? id;
        var layers = reader.Integer(map, "layers", path, 1, 100_000);
        var hidden = reader.Integer(map, "hidden_size", path, 1, 1_000_000);
        var heads = reader.Integer(map, "attention_heads", path, 1, 100_000);
        var keyValueHeads = reader.Integer(map, "key_value_heads", path, 1, 100_000, required: false) ?? heads;
        var headSize = reader.Integer(map, "head_size", path, 1, 100_000, required: false);
        if (headSize is null && hidden is { } h && heads is { } a)
        {
            if (h % a == 0)
            {
                headSize = h / a;
            }
            else
            {
                reader.Error(YamlReader.Child(map, "attention_heads"), YamlReader.Join(path, "attention_heads"), $"{a} heads do not divide the hidden size {h} (expected a divisor, or an explicit head_size)");
            }
        }

        var feedForward = reader.Integer(map, "feed_forward_size", path, 1, 10_000_000);
        var activation = reader.Enumeration(map, "feed_forward_activation", path, Activations);
        var vocabulary = reader.Integer(map, "vocabulary_size", path, 1, 100_000_000);
        var position = reader.Enumeration(map, "position_embedding", path, Positions, required: false) ?? PositionEmbedding.Rotary;
        var normalization = reader.Enumeration(map, "normalization", path, Normalizations, required: false) ?? Normalization.LayerNorm;
        var tied = reader.Boolean(map, "tied_embeddings", path) ?? false;
        var maximumSequence = reader.Integer(map, "max_sequence_length", path, 1, 100_000_000, required: false);
        var parameters = reader.Number(map, "parameters", path, 1, 1e16, required: false);
        var headsDivide = !(heads is { } queryHeads && keyValueHeads is { } groups && queryHeads % groups != 0);
        if (!headsDivide)
        {
            reader.Error(YamlReader.Child(map, "key_value_heads"), YamlReader.Join(path, "key_value_heads"), $"{keyValueHeads} key-value heads do not divide the {heads} attention heads");
        }

        if (position == PositionEmbedding.Learned && maximumSequence is null && YamlReader.Child(map, "max_sequence_length") is null)
        {
            reader.Error(map, YamlReader.Join(path, "max_sequence_length"), "missing: learned positions need the table's length");
        }

        var sources = ReadSources(reader, map, path);
        var experts = ReadExperts(reader, reader.Mapping(map, "mixture_of_experts", path, required: false), YamlReader.Join(path, "mixture_of_experts"), layers);
        var latent = ReadLatentAttention(reader, reader.Mapping(map, "latent_attention", path, required: false), YamlReader.Join(path, "latent_attention"));
        var predictionDepth = reader.Integer(map, "multi_token_prediction", path, 0, 16, required: false) ?? 0;
        var local = ReadLocalAttention(reader, reader.Mapping(map, "local_attention", path, required: false), YamlReader.Join(path, "local_attention"), layers);

        if (id is null || name is null || layers is null || hidden is null || heads is null || keyValueHeads is null || headSize is null ||
            feedForward is null || activation is null || vocabulary is null || !headsDivide)
        {
            return null;
        }

        var model = new ModelArchitecture
        {
            Id = id,
            Name = name,
            Layers = layers.Value,
            HiddenSize = hidden.Value,
            AttentionHeads = heads.Value,
            KeyValueHeads = keyValueHeads.Value,
            HeadSize = headSize.Value,
            FeedForwardSize = feedForward.Value,
            Activation = activation.Value,
            VocabularySize = vocabulary.Value,
            PositionEmbedding = position,
            Normalization = normalization,
            TiedEmbeddings = tied,
            MaximumSequenceLength = maximumSequence,
            PublishedParameters = parameters,
            Sources = [.. sources],
            MixtureOfExperts = experts,
            LatentAttention = latent,
            MultiTokenPredictionDepth = predictionDepth,
            LocalAttention = local,
        };

        // The published headline count guards against a mistyped shape: 10% allows for biases and rounding.
        if (parameters is { } published && Math.Abs(model.Parameters / published - 1) > 0.10)
        {
            reader.Error(YamlReader.Child(map, "parameters"), YamlReader.Join(path, "parameters"),
                $"the shape gives {Format(model.Parameters)} parameters, more than 10% from the published {Format(published)} (check layers, widths and vocabulary)");
            return null;
        }

        return model;

        // Three figures at the scale of the count: 12.6M, 8.03B, 1.2T.
        static string Format(double count)
        {
            var (scale, suffix) = count >= 1e12 ? (1e12, "T") : count >= 1e9 ? (1e9, "B") : count >= 1e6 ? (1e6, "M") : (1, string.Empty);
            var value = count / scale;
            return value.ToString(value >= 100 ? "0" : value >= 10 ? "0.#" : "0.##", CultureInfo.InvariantCulture) + suffix;
        }
    }

    /// <summary>The <c>mixture_of_experts</c> block: routed experts, top-k, expert width, shared experts, leading dense layers.</summary>
    private static ExpertLayers? ReadExperts(YamlReader reader, YamlMappingNode? map, string path, int? layers)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, path, "experts", "experts_per_token", "expert_feed_forward_size", "shared_experts", "dense_layers", "routing_skew", "routing_skew_derivation", "routing_skew_experts_per_chip", "interval");
        var routed = reader.Integer(map, "experts", path, 1, 1_000_000);
        var perToken = reader.Integer(map, "experts_per_token", path, 1, 1_000_000);
        var width = reader.Integer(map, "expert_feed_forward_size", path, 1, 10_000_000);
        var shared = reader.Integer(map, "shared_experts", path, 0, 1_000, required: false) ?? 0;
        var dense = reader.Integer(map, "dense_layers", path, 0, 100_000, required: false) ?? 0;
        var skew = reader.Number(map, "routing_skew", path, 1, 100, required: false) ?? 1;
        var derivation = reader.String(map, "routing_skew_derivation", path, required: false);
        var measuredAt = reader.Integer(map, "routing_skew_experts_per_chip", path, 1, 1_000_000, required: false);
        if (skew != 1 && (string.IsNullOrWhiteSpace(derivation) || measuredAt is null))
        {
            // A calibration constant is data with its provenance: a skew says which measurements it comes from.
            reader.Error(YamlReader.Child(map, "routing_skew"), YamlReader.Join(path, "routing_skew"),
                $"a routing skew of {skew.ToString(System.Globalization.CultureInfo.InvariantCulture)} needs routing_skew_derivation (the measured runs it comes from and how) and routing_skew_experts_per_chip (the local experts of those runs)");
            return null;
        }

        var interval = reader.Integer(map, "interval", path, 1, 1_000, required: false) ?? 1;
        if (routed is { } all && perToken is { } k && k > all)
        {
            reader.Error(YamlReader.Child(map, "experts_per_token"), YamlReader.Join(path, "experts_per_token"), $"{k} experts per token is more than the {all} experts");
            return null;
        }

        if (layers is { } count && dense + interval - 1 >= count)
        {
            reader.Error(YamlReader.Child(map, "dense_layers") ?? YamlReader.Child(map, "interval") ?? map, YamlReader.Join(path, "dense_layers"),
                $"{dense} leading dense layers and an expert layer every {interval} leave none of the {count} layers for experts (expected fewer dense layers or a shorter interval)");
            return null;
        }

        return routed is null || perToken is null || width is null ? null : new ExpertLayers(routed.Value, perToken.Value, width.Value, shared, dense, skew, interval)
        {
            RoutingSkewDerivation = derivation,
            RoutingSkewExpertsPerChip = measuredAt,
        };
    }

    /// <summary>The <c>latent_attention</c> block: the query and key-value latent widths, the rotary and value head widths.</summary>
    private static LatentAttention? ReadLatentAttention(YamlReader reader, YamlMappingNode? map, string path)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, path, "query_rank", "key_value_rank", "rotary_head_size", "value_head_size");
        var query = reader.Integer(map, "query_rank", path, 0, 1_000_000, required: false) ?? 0;
        var keyValue = reader.Integer(map, "key_value_rank", path, 1, 1_000_000);
        var rotary = reader.Integer(map, "rotary_head_size", path, 0, 100_000);
        var value = reader.Integer(map, "value_head_size", path, 1, 100_000);
        return keyValue is null || rotary is null || value is null ? null : new LatentAttention(query, keyValue.Value, rotary.Value, value.Value);
    }

    /// <summary>The <c>local_attention</c> block: sliding windows or chunks, their length, and how often a layer attends to the whole context.</summary>
    private static LocalAttention? ReadLocalAttention(YamlReader reader, YamlMappingNode? map, string path, int? layers)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, path, "kind", "window", "global_every");
        var kind = reader.Enumeration(map, "kind", path, LocalKinds);
        var window = reader.Integer(map, "window", path, 1, 100_000_000);
        var globalEvery = reader.Integer(map, "global_every", path, 2, 100_000);
        if (globalEvery is { } every && layers is { } count && every > count)
        {
            reader.Error(YamlReader.Child(map, "global_every"), YamlReader.Join(path, "global_every"),
                $"a global layer every {every} leaves none of the {count} layers attending to the whole context (expected at most {count})");
            return null;
        }

        return kind is null || window is null || globalEvery is null ? null : new LocalAttention(kind.Value, window.Value, globalEvery.Value);
    }

    private static List<ModelSource> ReadSources(YamlReader reader, YamlMappingNode map, string path)
    {
        var sources = new List<ModelSource>();
        var node = YamlReader.Child(map, "sources");
        if (node is null)
        {
            return sources;
        }

        if (node is not YamlSequenceNode list)
        {
            reader.Error(node, YamlReader.Join(path, "sources"), "expected a list of {title, url, date}");
            return sources;
        }

        var index = 0;
        foreach (var item in list)
        {
            var field = $"{YamlReader.Join(path, "sources")}[{index++}]";
            if (item is not YamlMappingNode entry)
            {
                reader.Error(item, field, "expected {title, url, date}");
                continue;
            }

            var title = reader.String(entry, "title", field);
            if (title is not null)
            {
                sources.Add(new ModelSource(title, reader.String(entry, "url", field, required: false), reader.String(entry, "date", field, required: false)));
            }
        }

        return sources;
    }
}

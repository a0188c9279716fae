using ClusterTwin.Reliability;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>
/// Reads a scenario's <c>stragglers</c> block: how the chips differ in speed, persistently and for a step at a time,
/// for the event-level engine's draws. The block is the scenario's own: no fleet publishes a spread for these chips.
/// </summary>
internal static class ScenarioStragglers
{
    internal static StragglerSettings? Read(YamlReader reader, YamlMappingNode root, string path)
    {
        var field = YamlReader.Join(path, "stragglers");
        if (reader.Mapping(root, "stragglers", path, required: false) is not { } map)
        {
            return null;
        }

        reader.CheckKeys(map, field, "chip_spread", "replaced_beyond", "transient_share", "transient_slowdown", "draws", "seed", "note");
        _ = reader.String(map, "note", field, required: false);
        var spread = reader.Number(map, "chip_spread", field, 0, StragglerSettings.MostChipSpread, required: false);
        var replaced = reader.Number(map, "replaced_beyond", field, 0.001, 1, required: false);
        var share = reader.Number(map, "transient_share", field, 0, 1, required: false);
        var slowdown = reader.Number(map, "transient_slowdown", field, 1, 10, required: false);
        var draws = reader.Integer(map, "draws", field, 1, StragglerSettings.MostDraws, required: false) ?? StragglerSettings.DefaultDraws;
        var seed = reader.Integer(map, "seed", field, 0, int.MaxValue, required: false) ?? 1;
        bool Names(string key) => YamlReader.Child(map, key) is not null;
        if (Names("transient_share") != Names("transient_slowdown"))
        {
            reader.Error(map, field, "transient_share and transient_slowdown go together: name both (such as transient_share: 1e-6 and transient_slowdown: 1.3), or neither");
        }
        else if (!(spread > 0) && !(share > 0) && Names("chip_spread") == (spread is not null) && Names("transient_share") == (share is not null))
        {
            // Every field named was read: the block names no straggler at all.
            reader.Error(map, field, "names no stragglers: give chip_spread above 0 (the chips' persistent spread, such as 0.012), or transient_share above 0 with transient_slowdown, or remove the block");
        }
        else if (Names("replaced_beyond") && !(spread > 0) && Names("chip_spread") == (spread is not null))
        {
            reader.Error(YamlReader.Child(map, "replaced_beyond")!, YamlReader.Join(field, "replaced_beyond"), "cuts the chips' spread: name chip_spread above 0 too (such as chip_spread: 0.012), or remove it");
        }

        return spread is null && share is null ? null : new StragglerSettings(spread ?? 0, replaced, share ?? 0, slowdown ?? 1, draws, seed);
    }
}

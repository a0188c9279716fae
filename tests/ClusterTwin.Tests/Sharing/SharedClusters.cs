using ClusterTwin.Catalog;
using ClusterTwin.Sharing;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Sharing;

/// <summary>Small shared clusters for the tests: data-parallel Llama 3 8B jobs and a Qwen3-30B-A3B job on DGX H100.</summary>
internal static class SharedClusters
{
    /// <summary>A Llama 3 8B job on <paramref name="systems"/> DGX H100, data-parallel only (its gradients cross the fabric).</summary>
    public static string DataParallelJob(int systems, string name = "llama") =>
        $"  - name: {name}\n    systems: {systems}\n    model: llama3-8b\n" +
        "    training: {sequence_length: 8192, global_batch: " + (systems * 16) + ", precision: bf16}\n" +
        "    plan: {tensor: 1, micro_batch: 1, recompute: none, zero: 2}\n";

    /// <summary>A Qwen3-30B-A3B job on <paramref name="systems"/> DGX H100 whose expert groups of 16 span two systems (its all-to-alls cross the fabric).</summary>
    public static string ExpertJob(int systems, string name = "qwen") =>
        $"  - name: {name}\n    systems: {systems}\n    model: qwen3-30b-a3b\n" +
        "    training: {sequence_length: 4096, global_batch: " + (systems * 16) + ", precision: bf16}\n" +
        "    plan: {tensor: 1, expert: 16, micro_batch: 1, recompute: selective, zero: 1}\n";

    /// <summary>A shared cluster's text: <paramref name="systems"/> DGX H100 on the NDR fat tree, the given ratios and placement, then the jobs.</summary>
    public static string Text(int systems, string oversubscription, string placement, params string[] jobs) =>
        $"name: test cluster\ncluster:\n  system: nvidia-dgx-h100\n  count: {systems}\n  fabric: infiniband-ndr-fat-tree\n" +
        (oversubscription.Length > 0 ? $"  oversubscription: [{oversubscription}]\n" : string.Empty) +
        $"placement: {placement}\njobs:\n" + string.Concat(jobs);

    /// <summary>Loads <paramref name="text"/>.</summary>
    public static SharedCluster Load(string text)
    {
        using var folder = new TemporaryFolder();
        return ScenarioLoader.LoadShared(folder.Write("shared.yaml", text), Repository.Catalog);
    }

    /// <summary>Loads and runs <paramref name="text"/>.</summary>
    public static SharedClusterResult Run(string text) => SharedFabric.Run(Load(text));
}

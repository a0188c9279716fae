using ClusterTwin.Catalog;
using ClusterTwin.Reinforcement;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Reinforcement;

/// <summary>Small RL scenarios for the tests: Llama 3.1 8B on one or two DGX H100, a few hundred short responses.</summary>
internal static class ReinforcementScenarios
{
    /// <summary>A colocated scenario's text, with <paramref name="rl"/> added to its rl block and <paramref name="serving"/> to its rollout's serving block.</summary>
    public static string Colocated(string rl = "", string serving = "", string plan = "tensor: 1, pipeline: 2, micro_batch: 1") =>
        "name: small colocated\nmodel: llama3-8b\n" +
        "trainer:\n  cluster: {system: nvidia-dgx-h100, count: 1, fabric: infiniband-ndr-fat-tree}\n" +
        "  training: {sequence_length: 2048, precision: bf16, framework: megatron-core}\n" +
        $"  plan: {{{plan}}}\n" +
        $"rollout:\n  serving: {{framework: vllm-0.6, tensor: 1, max_batch: 64{serving}}}\n" +
        "rl:\n  placement: colocated\n  prompts: 16\n  samples: 8\n  prompt_tokens: [32, 256]\n" +
        "  response_tokens: {median: 300, spread: 0.7, range: [8, 1536]}\n  updates: 2\n" + rl;

    /// <summary>A separate scenario's text: one DGX H100 trains, another generates.</summary>
    public static string Separate(string rl = "", string serving = "") =>
        "name: small separate\nmodel: llama3-8b\n" +
        "trainer:\n  cluster: {system: nvidia-dgx-h100, count: 1, fabric: infiniband-ndr-fat-tree}\n" +
        "  training: {sequence_length: 2048, precision: bf16, framework: megatron-core}\n" +
        "  plan: {tensor: 1, pipeline: 2, micro_batch: 1}\n" +
        "rollout:\n  cluster: {system: nvidia-dgx-h100, count: 1, fabric: infiniband-ndr-fat-tree}\n" +
        $"  serving: {{framework: vllm-0.6, tensor: 1, max_batch: 64{serving}}}\n" +
        "rl:\n  placement: separate\n  prompts: 16\n  samples: 8\n  prompt_tokens: [32, 256]\n" +
        "  response_tokens: {median: 300, spread: 0.7, range: [8, 1536]}\n  updates: 2\n" + rl;

    /// <summary>Loads <paramref name="text"/> as an RL scenario.</summary>
    public static ReinforcementScenario Load(string text)
    {
        using var folder = new TemporaryFolder();
        return ScenarioLoader.LoadReinforcement(folder.Write("rl.yaml", text), Repository.Catalog);
    }

    /// <summary>Loads and simulates <paramref name="text"/>.</summary>
    public static ReinforcementStep Run(string text) => ReinforcementSimulator.Run(Load(text));
}

namespace ClusterTwin.Tests.Support;

/// <summary>Small valid scenarios that input tests mutate into bad ones.</summary>
internal static class SmallScenarios
{
    /// <summary>Llama 3 8B on two DGX H100, tensor parallelism 8: valid, and quick to simulate.</summary>
    public const string Training = """
        name: small
        cluster:
          system: nvidia-dgx-h100
          count: 2
          fabric: infiniband-ndr-fat-tree
        model: llama3-8b
        training:
          sequence_length: 4096
          global_batch: 64
          precision: bf16
        plan:
          tensor: 8
          pipeline: 1
          micro_batch: 1
        """;
}

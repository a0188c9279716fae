using ClusterTwin.Serving;

namespace ClusterTwin.Reinforcement;

/// <summary>Where the rollout engine runs relative to the trainer.</summary>
public enum RolloutPlacement
{
    /// <summary>
    /// On the trainer's chips, one phase after the other (verl's hybrid engine, OpenRLHF's and NeMo-RL's colocated
    /// mode): the chips generate, then train, and the weights are resharded in place between the two.
    /// </summary>
    Colocated,

    /// <summary>
    /// On chips of its own (slime, AReaL, verl's split placement): the two pools work at once where the algorithm allows,
    /// and the trained weights cross the scale-out fabric to the rollout engine.
    /// </summary>
    Separate,
}

/// <summary>When a colocated trainer moves its state to the host around the rollout.</summary>
public enum TrainerOffload
{
    /// <summary>Where the trainer's state and the rollout engine's share of memory do not fit at once.</summary>
    WhereNeeded,

    /// <summary>Every step (NeMo-RL's and verl's offload settings on), fitting or not.</summary>
    Always,

    /// <summary>Never: a trainer that does not fit beside the rollout engine is a problem.</summary>
    Never,
}

/// <summary>One step of reinforcement-learning post-training (GRPO, DAPO, RLOO, PPO with or without a critic): what it generates and how it learns from it.</summary>
public sealed record ReinforcementSettings
{
    /// <summary>Where the rollout engine runs.</summary>
    public required RolloutPlacement Placement { get; init; }

    /// <summary>Prompts per step (verl's <c>train_batch_size</c>).</summary>
    public required int Prompts { get; init; }

    /// <summary>Responses generated per prompt (GRPO's group size, verl's <c>rollout.n</c>).</summary>
    public required int Samples { get; init; }

    /// <summary>Prompt lengths.</summary>
    public required TokenCount PromptTokens { get; init; }

    /// <summary>Response lengths: a long tail sets the generation's end.</summary>
    public required TokenCount ResponseTokens { get; init; }

    /// <summary>Optimizer steps per step: the generated batch is split into this many mini-batches (verl's <c>train_batch_size / ppo_mini_batch_size</c>).</summary>
    public int Updates { get; init; } = 1;

    /// <summary>Whether a frozen reference model scores every sample (a KL penalty or loss): one forward pass over the batch.</summary>
    public bool ReferenceModel { get; init; } = true;

    /// <summary>Whether the trainer recomputes the policy's log-probabilities before updating (verl, OpenRLHF): one forward pass over the batch; false takes the rollout engine's.</summary>
    public bool RecomputeLogProbabilities { get; init; } = true;

    /// <summary>
    /// Whether a critic (PPO's value model: the policy's model with a value head, on the trainer's layout) scores the
    /// batch and trains beside the policy: one more forward pass, and as many optimizer steps again.
    /// </summary>
    public bool Critic { get; init; }

    /// <summary>
    /// A reward model that scores every sample (RLHF's learned reward): one more forward pass over the batch, of this
    /// model on the trainer's layout; null where the reward is a rule (checking an answer) and costs nothing.
    /// </summary>
    public Workloads.ModelArchitecture? RewardModel { get; init; }

    /// <summary>Colocated: when the trainer's weights, gradients and optimizer state move to the host around the rollout.</summary>
    public TrainerOffload Offload { get; init; }

    /// <summary>
    /// The rate each rollout chip receives the weights at, as measured on a framework; null costs the transfer at the
    /// links' rates (<see cref="WeightUpdate"/>), a bound per chip that broadcast engines approach.
    /// </summary>
    public Units.Bandwidth? WeightUpdateBandwidth { get; init; }

    /// <summary>How many steps the rollout may run ahead of the trainer: 0 is on-policy (synchronous), 1 generates the next batch while this one trains (separate placement only).</summary>
    public int OffPolicySteps { get; init; }

    /// <summary>Steps of the run, for its time and cost; null leaves the run out.</summary>
    public long? Steps { get; init; }

    /// <summary>The seed of the prompt and response lengths.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Responses per step.</summary>
    public long Responses => (long)Prompts * Samples;

    /// <summary>Forward passes over the batch before training: the policy's log-probabilities, the reference model's, and the critic's values.</summary>
    public int ScoringPasses => (RecomputeLogProbabilities ? 1 : 0) + (ReferenceModel ? 1 : 0) + (Critic ? 1 : 0);

    /// <summary>Models trained each step: the policy, and the critic where there is one.</summary>
    public int TrainedModels => Critic ? 2 : 1;

    /// <summary>The responses as a serving workload: every one of them at once, as a rollout engine takes the batch.</summary>
    public RequestWorkload Workload => new()
    {
        Arrivals = ArrivalKind.AllAtOnce,
        Requests = Responses,
        InputTokens = PromptTokens,
        OutputTokens = ResponseTokens,
        Seed = Seed,
    };
}

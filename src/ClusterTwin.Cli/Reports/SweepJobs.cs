using System.Globalization;
using System.Text;
using System.Text.Json;
using ClusterTwin.Sweeps;

namespace ClusterTwin.Cli.Reports;

/// <summary>
/// Job files that run a sweep's shards on an existing distributed engine: a Slurm array job (one task per shard) and
/// a Kubernetes Indexed Job (one completion per shard). Each shard runs <c>clustertwin sweep --shard I/N --out</c>;
/// <c>clustertwin sweep-merge</c> joins the parts.
/// </summary>
public static class SweepJobs
{
    /// <summary>Strings as YAML's double-quoted scalars read them: JSON's escapes, quotes and apostrophes kept plain.</summary>
    private static readonly JsonSerializerOptions Relaxed = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>The shell's name for a Slurm array task's index.</summary>
    private const string Task = "${SLURM_ARRAY_TASK_ID}";

    /// <summary>Slurm's default MaxArraySize: the highest array index is one less.</summary>
    public const int SlurmDefaultMaxArraySize = 1001;

    /// <summary>The most completions Kubernetes takes in an Indexed Job with a backoff limit per index.</summary>
    public const int KubernetesMostCompletions = 100_000;

    /// <summary>The most completions a Kubernetes Indexed Job runs at once, by this file (a cluster's quota may say less).</summary>
    public const int KubernetesParallelism = 100;

    /// <summary>A Slurm array job script for <paramref name="sweep"/> (named <paramref name="file"/> as typed) in <paramref name="shards"/> shards.</summary>
    public static string Slurm(SweepDefinition sweep, string file, int shards, int threads)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var slug = Slug(Path.GetFileNameWithoutExtension(file));
        var text = new StringBuilder();
        text.Append(CultureInfo.InvariantCulture, $"""
            #!/bin/bash
            # ClusterTwin sweep "{OneLine(sweep.Name)}" ({OneLine(file)}): {sweep.Points:N0} points in {shards} shards, fingerprint {sweep.Fingerprint}.
            # Written by clustertwin sweep-launch. Submit from the repository root (where sweep-launch ran), with the
            # tool built first (./clustertwin --help builds it; the tasks then only run it):
            #   sbatch THIS-FILE
            # Each task runs one shard and writes sweep-parts/{slug}/I.jsonl. When every task is done, merge them:
            #   ./clustertwin sweep-merge sweep-parts/{slug}/*.jsonl --out {slug}.jsonl --csv {slug}.csv
            #SBATCH --job-name=clustertwin-{slug}
            #SBATCH --array=0-{shards - 1}
            #SBATCH --cpus-per-task={threads}
            #SBATCH --output=clustertwin-{slug}-%A-%a.log

            """);
        if (shards > SlurmDefaultMaxArraySize)
        {
            text.Append(CultureInfo.InvariantCulture, $"# Note: {shards} tasks exceed Slurm's default MaxArraySize ({SlurmDefaultMaxArraySize}); ask the cluster's administrators, or use fewer shards.\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"""
            set -euo pipefail
            mkdir -p sweep-parts/{slug}
            ./clustertwin sweep {Quoted(file)} --shard "{Task}/{shards}" --threads {threads} --out "sweep-parts/{slug}/{Task}.jsonl"

            """);
        return text.ToString();
    }

    /// <summary>A Kubernetes Indexed Job manifest for <paramref name="sweep"/> in <paramref name="shards"/> shards, run from <paramref name="image"/>.</summary>
    public static string Kubernetes(SweepDefinition sweep, string file, int shards, int threads, string image)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var slug = Slug(Path.GetFileNameWithoutExtension(file));
        var command = $"mkdir -p /results/{slug} && ./clustertwin sweep {Quoted(file)} --shard \"$JOB_COMPLETION_INDEX/{shards}\" --threads {threads} --out \"/results/{slug}/$JOB_COMPLETION_INDEX.jsonl\"";
        return string.Create(CultureInfo.InvariantCulture, $$"""
            # ClusterTwin sweep "{{OneLine(sweep.Name)}}" ({{OneLine(file)}}): {{sweep.Points:N0}} points in {{shards}} shards, fingerprint {{sweep.Fingerprint}}.
            # Written by clustertwin sweep-launch. The image holds the repository at /clustertwin with the tool built
            # (docs/sweeps.md); the parts go to the volume claim clustertwin-results (ReadWriteMany: the pods write
            # at once), mounted at /results. Submit with
            #   kubectl apply -f THIS-FILE
            # and, when every completion is done, merge the parts from the volume:
            #   ./clustertwin sweep-merge RESULTS/{{slug}}/*.jsonl --out {{slug}}.jsonl --csv {{slug}}.csv
            apiVersion: batch/v1
            kind: Job
            metadata:
              name: clustertwin-{{slug}}
            spec:
              completionMode: Indexed
              completions: {{shards}}
              parallelism: {{Math.Min(shards, KubernetesParallelism)}}
              backoffLimitPerIndex: 2
              template:
                spec:
                  restartPolicy: Never
                  containers:
                    - name: sweep
                      image: {{JsonSerializer.Serialize(image, Relaxed)}}
                      workingDir: /clustertwin
                      command: ["sh", "-c"]
                      args: [{{JsonSerializer.Serialize(command, Relaxed)}}]
                      resources:
                        requests: {cpu: "{{threads}}", memory: 2Gi}
                      volumeMounts:
                        - {name: results, mountPath: /results}
                  volumes:
                    - name: results
                      persistentVolumeClaim: {claimName: clustertwin-results}

            """);
    }

    /// <summary>A name Slurm and Kubernetes both take (from the sweep file's): lower-case letters, digits and dashes, at most 40.</summary>
    public static string Slug(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var slug = new StringBuilder();
        foreach (var character in name.ToLowerInvariant())
        {
            slug.Append(character is >= 'a' and <= 'z' or >= '0' and <= '9' ? character : '-');
        }

        var trimmed = string.Join('-', slug.ToString().Split('-', StringSplitOptions.RemoveEmptyEntries));
        trimmed = trimmed.Length > 40 ? trimmed[..40].TrimEnd('-') : trimmed;
        return trimmed.Length == 0 ? "sweep" : trimmed;
    }

    /// <summary>A path quoted for the shell: single quotes, a single quote inside closed, escaped and reopened.</summary>
    private static string Quoted(string path) => "'" + path.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>Text for a comment line: its line breaks as spaces.</summary>
    private static string OneLine(string text) => text.ReplaceLineEndings(" ");
}

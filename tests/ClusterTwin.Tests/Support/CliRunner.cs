using ClusterTwin.Cli;
using Spectre.Console;

namespace ClusterTwin.Tests.Support;

/// <summary>Runs the command line in-process with captured output, as a user would see it.</summary>
internal static class CliRunner
{
    public sealed record Outcome(int ExitCode, string Output, string Errors);

    public static Outcome Run(params string[] args) => Run(200, args);

    /// <summary>Runs the command line drawing at <paramref name="width"/> columns.</summary>
    public static Outcome Run(int width, params string[] args)
    {
        var output = new StringWriter();
        var errors = new StringWriter();
        var console = AnsiConsole.Create(new AnsiConsoleSettings
        {
            Ansi = AnsiSupport.No,
            ColorSystem = ColorSystemSupport.NoColors,
            Out = new AnsiConsoleOutput(output),
            Interactive = InteractionSupport.No,
        });
        console.Profile.Width = width;

        // Tests run in parallel, so the working folder is never changed: paths are absolute, and the catalogue
        // is found above the test assembly.
        var code = CommandLine.Run(args, console, errors);
        return new Outcome(code, output.ToString(), errors.ToString());
    }
}

/// <summary>Temporary files that are removed after the test.</summary>
internal sealed class TemporaryFolder : IDisposable
{
    public TemporaryFolder() => System.IO.Directory.CreateDirectory(Path);

    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "clustertwin-tests-" + Guid.NewGuid().ToString("N"));

    public string Write(string name, string text)
    {
        var file = System.IO.Path.Combine(Path, name);
        System.IO.Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, text);
        return file;
    }

    /// <summary>A folder holding a copy of the repository's catalogue, to break on purpose.</summary>
    public static TemporaryFolder WithCatalogCopy()
    {
        var folder = new TemporaryFolder();
        var catalog = Repository.Path("catalog");
        foreach (var file in System.IO.Directory.GetFiles(catalog, "*.yaml", SearchOption.AllDirectories))
        {
            folder.Write(System.IO.Path.GetRelativePath(catalog, file), File.ReadAllText(file));
        }

        return folder;
    }

    public void Dispose() => System.IO.Directory.Delete(Path, recursive: true);
}

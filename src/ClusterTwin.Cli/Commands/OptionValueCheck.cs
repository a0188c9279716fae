using System.ComponentModel;
using System.Reflection;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary>
/// Finds an option given without its value (<c>--catalog</c> last on the line, or followed by another option).
/// Spectre.Console.Cli binds such an option to the internal name of its default command, <c>__default_command</c>,
/// which would otherwise reach the user as a folder, a file or a number of that name.
/// </summary>
internal static class OptionValueCheck
{
    /// <summary>What Spectre.Console.Cli binds to a value-taking option given no value.</summary>
    private const string NoValue = "__default_command";

    /// <summary>The message for the first option of <paramref name="settings"/> given without its value, or null where each has one.</summary>
    public static string? MissingValue(CommandSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        foreach (var property in settings.GetType().GetProperties(BindingFlags.Public | BindingFlags.Instance))
        {
            if (property.GetCustomAttribute<CommandOptionAttribute>() is not { ValueName: { Length: > 0 } valueName } option)
            {
                continue;
            }

            var missing = property.GetValue(settings) switch
            {
                string text => text == NoValue,
                string[] texts => texts.Contains(NoValue, StringComparer.Ordinal),
                _ => false,
            };
            if (missing)
            {
                var name = "--" + option.LongNames[0];
                var description = property.GetCustomAttribute<DescriptionAttribute>()?.Description;
                return $"{name} needs a value after it: {name} <{valueName}>{(description is null ? string.Empty : ": " + description)}";
            }
        }

        return null;
    }
}

using System.Globalization;

namespace ClusterTwin.Catalog;

/// <summary>
/// Which characters of a text a terminal would act on instead of showing: control characters other than the line
/// feed and the tab (an escape sequence, a carriage return that rewrites its line, a NUL), and the invisible format
/// characters (a bidirectional override that reorders what follows). Input text may not hold them, and an error that
/// quotes text shows them as escapes.
/// </summary>
public static class TextSafety
{
    /// <summary>Whether <paramref name="character"/> is one a terminal would act on rather than show.</summary>
    public static bool IsHidden(char character) =>
        (char.IsControl(character) && character is not ('\n' or '\t')) || char.GetUnicodeCategory(character) == UnicodeCategory.Format;
}

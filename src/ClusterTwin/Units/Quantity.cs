using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace ClusterTwin.Units;

/// <summary>Parsing and printing of quantities written as "number unit" ("4.9 TB/s", "144 GiB", "700 W").</summary>
public static class Quantity
{
    /// <summary>Parses a quantity, or explains why the text is not one.</summary>
    public static bool TryParse<T>(string? text, out T value, [NotNullWhen(false)] out string? error)
        where T : struct, IQuantity<T>
    {
        value = default;
        var table = T.Units;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = $"expected a {table.Name} with a unit, such as '{Example(table)}'";
            return false;
        }

        var trimmed = text.Trim();
        if (trimmed.Contains(','))
        {
            error = $"'{trimmed}' has a comma: write numbers without thousands separators, with '.' for decimals (such as '{trimmed.Replace(",", string.Empty, StringComparison.Ordinal)}')";
            return false;
        }

        var (numberText, unitText) = Split(trimmed);
        if (numberText.Length == 0 || !double.TryParse(numberText, NumberStyles.Float, CultureInfo.InvariantCulture, out var number))
        {
            error = $"'{trimmed}' does not start with a number (expected a {table.Name} such as '{Example(table)}'; write numbers without thousands separators)";
            return false;
        }

        if (unitText.Length == 0)
        {
            error = $"'{trimmed}' has no unit (expected a {table.Name} in {table.Examples})";
            return false;
        }

        if (!table.TryGetFactor(unitText, out var factor))
        {
            error = $"'{unitText}' is not a unit of {table.Name} (expected {table.Examples})";
            return false;
        }

        if (!double.IsFinite(number * factor))
        {
            error = $"'{trimmed}' is too large to be a {table.Name}";
            return false;
        }

        value = T.FromBaseValue(number * factor);
        error = null;
        return true;
    }

    /// <summary>Parses a quantity or throws <see cref="FormatException"/> with the reason.</summary>
    public static T Parse<T>(string text)
        where T : struct, IQuantity<T>
        => TryParse<T>(text, out var value, out var error) ? value : throw new FormatException(error);

    /// <summary>Prints a quantity in the display unit that fits its magnitude, with four significant digits.</summary>
    public static string Format<T>(T value)
        where T : struct, IQuantity<T>
    {
        var (symbol, factor) = T.Units.DisplayUnitFor(value.BaseValue);
        return WithSymbol(value.BaseValue / factor, symbol);
    }

    /// <summary>Prints <paramref name="value"/> in the same unit as <paramref name="reference"/> prints in, so two figures compare at a glance ("83.01 GB of 80 GB").</summary>
    public static string FormatLike<T>(T value, T reference)
        where T : struct, IQuantity<T>
    {
        var (symbol, factor) = T.Units.DisplayUnitFor(reference.BaseValue);
        return WithSymbol(value.BaseValue / factor, symbol);
    }

    /// <summary>Four significant digits, without an exponent below a million ("70230 GB", not "7.023E+04 GB").</summary>
    private static string WithSymbol(double scaled, string symbol)
    {
        var number = Math.Abs(scaled) >= 1e4 && Math.Abs(scaled) < 1e6
            ? scaled.ToString("0", CultureInfo.InvariantCulture)
            : scaled.ToString("G4", CultureInfo.InvariantCulture);
        return symbol.StartsWith('$') ? "$" + number + symbol[1..] : $"{number} {symbol}";
    }

    private static (string Number, string Unit) Split(string text)
    {
        if (text.StartsWith('$'))
        {
            return (text[1..].Trim(), "USD");
        }

        var index = 0;
        while (index < text.Length && (char.IsDigit(text[index]) || text[index] is '.' or '-' or '+' or 'e' or 'E'))
        {
            // An 'e' starts an exponent only if a digit or sign follows; otherwise it is the unit ("1 EFLOPS" is spaced).
            if (text[index] is 'e' or 'E' && !(index + 1 < text.Length && (char.IsDigit(text[index + 1]) || text[index + 1] is '-' or '+')))
            {
                break;
            }

            index++;
        }

        return (text[..index], text[index..].Trim());
    }

    private static string Example(UnitTable table) => "1 " + table.DisplayUnitFor(1).Symbol;
}

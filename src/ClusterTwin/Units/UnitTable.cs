using System.Collections.Frozen;

namespace ClusterTwin.Units;

/// <summary>
/// The units one quantity may be written in, each with its factor to the SI base unit, and the units it is printed in.
/// </summary>
public sealed class UnitTable
{
    private readonly FrozenDictionary<string, double> factors;
    private readonly (string Symbol, double Factor)[] display;

    /// <summary>Creates a table.</summary>
    /// <param name="name">What the quantity is called in messages ("bandwidth").</param>
    /// <param name="units">Accepted unit symbols and their factors to the base unit.</param>
    /// <param name="display">Units used for printing, from the largest down.</param>
    /// <param name="examples">Units to name in error messages, the ones people write most.</param>
    public UnitTable(string name, IEnumerable<(string Symbol, double Factor)> units, IEnumerable<string> display, string examples)
    {
        Name = name;
        var all = units.ToArray();
        factors = all.ToFrozenDictionary(u => u.Symbol, u => u.Factor, StringComparer.Ordinal);
        this.display = display.Select(symbol => (symbol, factors[symbol])).OrderByDescending(u => u.Item2).ToArray();
        Examples = examples;
    }

    /// <summary>What the quantity is called in messages.</summary>
    public string Name { get; }

    /// <summary>A few accepted units, for error messages.</summary>
    public string Examples { get; }

    /// <summary>Looks up the factor of a unit symbol.</summary>
    public bool TryGetFactor(string symbol, out double factor) => factors.TryGetValue(symbol, out factor);

    /// <summary>
    /// The display unit whose scale fits <paramref name="baseValue"/>. Where a table prints both decimal and binary
    /// units (GB and GiB), the one that writes the value with fewer digits wins, so "144 GiB" prints as written
    /// and "80 GB" does not become "74.51 GiB".
    /// </summary>
    public (string Symbol, double Factor) DisplayUnitFor(double baseValue)
    {
        var magnitude = Math.Abs(baseValue);
        if (magnitude == 0)
        {
            return display.FirstOrDefault(unit => unit.Factor == 1, display[^1]);
        }

        (string Symbol, double Factor)? best = null;
        var bestLength = int.MaxValue;
        foreach (var unit in display)
        {
            var scaled = magnitude / unit.Factor;
            if (scaled < 0.9995 || (scaled >= 1023.5 && unit.Factor != display[0].Factor))
            {
                continue;
            }

            var length = scaled.ToString("G4", System.Globalization.CultureInfo.InvariantCulture).Length;
            if (length < bestLength)
            {
                best = unit;
                bestLength = length;
            }
        }

        return best ?? display[^1];
    }

    /// <summary>Builds units with SI prefixes (k, M, G, T, P, E) on a symbol.</summary>
    public static IEnumerable<(string Symbol, double Factor)> DecimalPrefixes(string symbol, double baseFactor = 1)
    {
        yield return (symbol, baseFactor);
        var prefixes = new[] { "k", "M", "G", "T", "P", "E" };
        for (var index = 0; index < prefixes.Length; index++)
        {
            yield return (prefixes[index] + symbol, baseFactor * Math.Pow(1000, index + 1));
        }
    }

    /// <summary>Builds units with binary prefixes (Ki, Mi, Gi, Ti, Pi) on a symbol.</summary>
    public static IEnumerable<(string Symbol, double Factor)> BinaryPrefixes(string symbol, double baseFactor = 1)
    {
        var prefixes = new[] { "Ki", "Mi", "Gi", "Ti", "Pi" };
        for (var index = 0; index < prefixes.Length; index++)
        {
            yield return (prefixes[index] + symbol, baseFactor * Math.Pow(1024, index + 1));
        }
    }

    /// <summary>Builds units with small SI prefixes (m, µ and u, n, p, f) on a symbol, for energies per operation.</summary>
    public static IEnumerable<(string Symbol, double Factor)> SmallPrefixes(string symbol, double baseFactor = 1)
    {
        yield return (symbol, baseFactor);
        var prefixes = new[] { "m", "u", "n", "p", "f" };
        for (var index = 0; index < prefixes.Length; index++)
        {
            yield return (prefixes[index] + symbol, baseFactor * Math.Pow(1000, -(index + 1)));
        }

        yield return ("µ" + symbol, baseFactor * 1e-6);
    }
}

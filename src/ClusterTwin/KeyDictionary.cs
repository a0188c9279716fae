using System.Collections;
using System.Diagnostics.CodeAnalysis;

namespace ClusterTwin;

/// <summary>
/// A closed set of values by the keys catalogue and scenario files write them with ("all-gather", "bf16"), read
/// either way: a reader looks a key up, a report or the JSON writes a value's key back.
/// </summary>
/// <typeparam name="TValue">The enumeration the keys name.</typeparam>
public sealed class KeyDictionary<TValue> : IReadOnlyDictionary<string, TValue>
    where TValue : struct, Enum
{
    private readonly Dictionary<string, TValue> byKey;
    private readonly Dictionary<TValue, string> byValue;

    /// <summary>The table of <paramref name="entries"/>, in the order error messages list them.</summary>
    public KeyDictionary(params (string Key, TValue Value)[] entries)
    {
        ArgumentNullException.ThrowIfNull(entries);
        byKey = entries.ToDictionary(entry => entry.Key, entry => entry.Value, StringComparer.Ordinal);
        byValue = entries.ToDictionary(entry => entry.Value, entry => entry.Key);
    }

    /// <summary>The key <paramref name="value"/> is written with.</summary>
    public string KeyOf(TValue value) => byValue[value];

    /// <inheritdoc/>
    public TValue this[string key] => byKey[key];

    /// <inheritdoc/>
    public IEnumerable<string> Keys => byKey.Keys;

    /// <inheritdoc/>
    public IEnumerable<TValue> Values => byKey.Values;

    /// <inheritdoc/>
    public int Count => byKey.Count;

    /// <inheritdoc/>
    public bool ContainsKey(string key) => byKey.ContainsKey(key);

    /// <inheritdoc/>
    public bool TryGetValue(string key, [MaybeNullWhen(false)] out TValue value) => byKey.TryGetValue(key, out value);

    /// <inheritdoc/>
    public IEnumerator<KeyValuePair<string, TValue>> GetEnumerator() => byKey.GetEnumerator();

    /// <inheritdoc/>
    IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
}

namespace ClusterTwin.Numerics;

/// <summary>
/// <c>exp(x) - 1</c> and <c>log(1 + x)</c> kept precise for a tiny <c>x</c> (Kahan's corrections), where the plain
/// forms round to zero: the chance that one of a million chips is struck, or the slowest of them, needs them. .NET's
/// <c>double.ExpM1</c> and <c>double.LogP1</c> are the plain forms.
/// </summary>
public static class PreciseMath
{
    /// <summary><c>exp(x) - 1</c>.</summary>
    public static double ExpMinusOne(double x)
    {
        var exponential = Math.Exp(x);
        return exponential == 1 ? x
            : exponential - 1 == -1 ? -1
            : double.IsPositiveInfinity(exponential) ? exponential
            : (exponential - 1) * x / Math.Log(exponential);
    }

    /// <summary><c>log(1 + x)</c>.</summary>
    public static double LogOnePlus(double x)
    {
        var sum = 1 + x;
        return sum == 1 ? x : Math.Log(sum) * x / (sum - 1);
    }
}

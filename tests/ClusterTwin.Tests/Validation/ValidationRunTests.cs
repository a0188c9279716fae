using ClusterTwin.Catalog;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Validation;

public class ValidationRunTests
{
    [Fact]
    public void CaseWhosePlanDoesNotDivide_IsAnError_NotAMinusHundredPercent()
    {
        var item = ValidationCaseLoader.Load(Repository.Path("validation", "cases", "korthikanti-a100-22B-full.yaml"), Repository.Catalog);
        var broken = item with { Scenario = item.Scenario.WithPlan(plan => plan with { TensorParallelism = 5 }) };
        var error = Assert.Throws<InputException>(() => ValidationRun.Run([broken]));
        // Named by its file and the line of its plan, as any other problem of the file is.
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.File.EndsWith(item.Id + ".yaml", StringComparison.Ordinal) && diagnostic.Line > 1
            && diagnostic.Message.Contains("does not divide", StringComparison.Ordinal));
    }

    [Fact]
    public void CaseFolder_WithSeveralBadFiles_ReportsThemAll()
    {
        using var folder = new TemporaryFolder();
        folder.Write("a.yaml", "id: a\nsource: x\nsource_key: x\nmeasured: {step_time: 1}\nscenario: {}\n");
        folder.Write("b.yaml", "id: b\nsource: x\nsource_key: x\nmeasured: {speed: 3}\n");
        var error = Assert.Throws<InputException>(() => ValidationCaseLoader.LoadAll(folder.Path, Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.File.EndsWith("a.yaml", StringComparison.Ordinal) && diagnostic.Message.Contains("has no unit", StringComparison.Ordinal));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.File.EndsWith("b.yaml", StringComparison.Ordinal) && diagnostic.Field == "measured.speed");
    }

    [Theory]
    [InlineData("not_fitted", "false")]
    [InlineData("not_framework_fitted", "yes")]
    [InlineData("not_framework_fitted", "\"\"")]
    public void AReasonToStayOutOfAFit_MustBeAReason(string key, string value)
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("validation", "cases", "korthikanti-a100-22B-full.yaml"));
        var error = Assert.Throws<InputException>(() => ValidationCaseLoader.Load(folder.Write("korthikanti-a100-22B-full.yaml", text.Replace("measured:", $"{key}: {value}\nmeasured:", StringComparison.Ordinal)), Repository.Catalog));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal(key, diagnostic.Field);
        Assert.Contains("gives no reason", diagnostic.Message, StringComparison.Ordinal);

        var kept = ValidationCaseLoader.Load(folder.Write("korthikanti-a100-22B-full.yaml", text.Replace("measured:", $"{key}: \"a check\"\nmeasured:", StringComparison.Ordinal)), Repository.Catalog);
        Assert.Equal(key == "not_fitted", !kept.Fitted);
        Assert.Equal(key == "not_framework_fitted", !kept.FrameworkFitted);
    }
}

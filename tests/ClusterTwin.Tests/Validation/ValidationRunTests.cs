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
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.File == item.Id && diagnostic.Message.Contains("does not divide", StringComparison.Ordinal));
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
}

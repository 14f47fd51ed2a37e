using RwePortal.Warehouse.Quality;

namespace RwePortal.Warehouse.Tests.Quality;

public sealed class DqCheckTests
{
    [Theory]
    [InlineData(0, 100, 0.0, null, DqStatus.Pass)]
    [InlineData(1, 100, 0.0, null, DqStatus.Fail)]
    [InlineData(1, 100, 5.0, 0.0, DqStatus.Warn)]
    [InlineData(6, 100, 5.0, 0.0, DqStatus.Fail)]
    [InlineData(0, 0, 0.0, null, DqStatus.NotApplicable)]
    public void A_check_fails_above_its_threshold_warns_above_its_warning_and_has_nothing_to_say_about_no_rows(
        long violating,
        long total,
        double fail,
        double? warn,
        DqStatus expected)
    {
        var check = new DqCheck("x", DqCategory.Plausibility, "t", null, "x", "SELECT 0, 0", fail, warn);

        Assert.Equal(expected, check.StatusOf(violating, total));
    }

    [Fact]
    public void Check_ids_are_unique_and_every_check_sql_uses_the_schema_placeholder()
    {
        var checks = DqCheckCatalog.Build(Warehouse.Schema.CdmSpecification.Load());

        Assert.Equal(checks.Count, checks.Select(c => c.Id).Distinct().Count());
        Assert.All(checks, c => Assert.Contains(Warehouse.Schema.SqlResources.SchemaPlaceholder, c.Sql, StringComparison.Ordinal));
        Assert.Contains(checks, c => c.Id == "consistency.person_exists.variant_occurrence");
        Assert.Contains(checks, c => c.Id == "consistency.person_exists.wearable_hourly");
    }
}

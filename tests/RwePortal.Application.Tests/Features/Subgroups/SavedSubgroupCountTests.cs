using RwePortal.Application.Common;
using RwePortal.Application.Features.ConceptSets;
using RwePortal.Application.Features.Subgroups;
using RwePortal.Application.Privacy;
using RwePortal.Application.Tests.Infrastructure;
using Xunit.Abstractions;

namespace RwePortal.Application.Tests.Features.Subgroups;

/// <summary>
/// Counting with saved subgroups as criteria, through CountSubgroup: exact counts against the source's known truth
/// (read from the audit trail, which holds the exact number), the revisions used on the audit, and what an attempt to
/// difference two saved subgroups that differ by one criterion yields under the keyed noise (decision 0720).
/// </summary>
[Collection(AppCollection.Name)]
public sealed class SavedSubgroupCountTests(AppFixture fixture, ITestOutputHelper output) : IAsyncLifetime
{
    private const string NoUlcer = """{"not": {"kind": "condition", "label": "no ulcer", "concepts": [{"id": 4112343}]}}""";
    private const string Women = """{"kind": "sex", "concepts": [8532]}""";
    private Guid _acme;
    private string _source = "";

    public async Task InitializeAsync()
    {
        _acme = await fixture.TenantIdAsync("acme");
        _source = await LibrarySource.CreateAsync(fixture, _acme);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    private async Task<Guid> SaveAsync(string name, string definition) =>
        (await fixture.SendAsync(new SaveSubgroup.Command(null, name, null, definition, SubgroupVisibility.Private, _source))).Unwrap().Id;

    private async Task<(CountSubgroup.Response Shown, long Exact, string Library)> CountAsync(string definition)
    {
        var shown = (await fixture.SendAsync(new CountSubgroup.Query(_source, definition))).Unwrap();
        var (exact, library) = await LibrarySource.LastCountAsync(fixture, _acme, _source);
        return (shown, exact, library);
    }

    [Fact]
    public async Task Union_intersection_and_exclusion_of_saved_subgroups_count_the_known_truth()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var bleeders = await SaveAsync("Bleeders", LibrarySource.BleedingPersons);
        var throats = await SaveAsync("Sore throats", LibrarySource.SoreThroats);

        var union = await CountAsync($$$"""{"version": 1, "criteria": [{"any": [{"kind": "subgroup", "id": "{{{bleeders}}}"}, {"kind": "subgroup", "id": "{{{throats}}}"}]}]}""");
        var intersection = await CountAsync($$$"""{"version": 1, "criteria": [{"all": [{"kind": "subgroup", "id": "{{{bleeders}}}"}, {"kind": "subgroup", "id": "{{{throats}}}"}]}]}""");
        var exclusion = await CountAsync(LibrarySource.MemberOf(bleeders, $$$"""{"not": {"kind": "subgroup", "id": "{{{throats}}}"}}"""));
        var nested = await CountAsync(LibrarySource.MemberOf(await SaveAsync("Bleeding women", LibrarySource.MemberOf(bleeders, Women))));

        Assert.Equal(59, union.Exact);         // 1–60 but person 2
        Assert.Equal(10, intersection.Exact);  // 31–40
        Assert.Equal(29, exclusion.Exact);     // 1–30 but person 2
        Assert.Equal(24, nested.Exact);        // women 1–25 but person 2, through two levels
        Assert.Equal("<11", intersection.Shown.Count.Display);
        Assert.Contains($"\"id\": \"{throats}\", \"kind\": \"subgroup\", \"revision\": 1", union.Library, StringComparison.Ordinal);
        Assert.Equal(["all persons, consented", "criteria[0]: any of 2"], union.Shown.Attrition.Select(s => s.Label));
        Assert.Equal(["all persons, consented", "member of 'Bleeders'", "criteria[1]: not"], exclusion.Shown.Attrition.Select(s => s.Label));
    }

    [Fact]
    public async Task Characterization_and_comparison_resolve_saved_subgroups_and_concept_sets_as_counts_do()
    {
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var bleeders = await SaveAsync("Bleeders", LibrarySource.BleedingPersons);
        var set = (await fixture.SendAsync(new SaveConceptSet.Command(
            null, "Sore throat", null, [new ConceptSetItem(28060, true, false)], SubgroupVisibility.Private, _source))).Unwrap();
        var throatsBySet = $$"""{"version": 1, "criteria": [{"kind": "condition", "concepts": [{"conceptSet": "{{set.Id}}"}]}]}""";

        var count = (await fixture.SendAsync(new CountSubgroup.Query(_source, LibrarySource.BleedingPersons))).Unwrap();
        var table = (await fixture.SendAsync(new CharacterizeSubgroup.Query(_source, LibrarySource.MemberOf(bleeders)))).Unwrap();
        var compared = (await fixture.SendAsync(new CompareSubgroups.Query(_source, LibrarySource.MemberOf(bleeders), throatsBySet))).Unwrap();
        var throats = (await fixture.SendAsync(new CharacterizeSubgroup.Query(_source, LibrarySource.SoreThroats))).Unwrap();
        var unknown = await fixture.SendAsync(new CompareSubgroups.Query(_source, LibrarySource.BleedingPersons, LibrarySource.MemberOf(Guid.NewGuid())));

        Assert.Equal(count.Count, table.Persons);
        Assert.Equal(table.Persons, compared.A.Persons);
        Assert.Equal(throats.Persons, compared.B.Persons);
        Assert.Equal("Validation.Failed", unknown.Error!.Code);
        Assert.StartsWith("B: criteria[0]: the saved subgroup", unknown.Error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Differencing_two_saved_subgroups_that_differ_by_one_criterion_leaves_the_small_difference_uncertain()
    {
        // The attacker saves "bleeders" (39) and "bleeders without an ulcer" (36): the 3 ulcer patients are the target.
        await fixture.SignInAsAsync(LibrarySource.AcmeAnalyst);
        var bleeders = await SaveAsync("Bleeders", LibrarySource.BleedingPersons);
        var withoutUlcer = await SaveAsync("Bleeders without an ulcer", LibrarySource.MemberOf(bleeders, NoUlcer));

        var total = await CountAsync(LibrarySource.MemberOf(bleeders));
        var part = await CountAsync(LibrarySource.MemberOf(withoutUlcer));
        var totalAgain = await CountAsync(LibrarySource.MemberOf(bleeders));
        var totalWrittenOut = await CountAsync(LibrarySource.BleedingPersons);
        var wrappedTwice = await CountAsync(LibrarySource.MemberOf(await SaveAsync("Bleeders again", LibrarySource.MemberOf(bleeders))));

        Assert.Equal((39L, 36L), (total.Exact, part.Exact));
        Assert.Equal(CellProtection.Perturbed, total.Shown.Count.Protection);
        Assert.Equal(CellProtection.Perturbed, part.Shown.Count.Protection);
        var shownTotal = total.Shown.Count.Value!.Value;
        var shownPart = part.Shown.Count.Value!.Value;
        // Every difference from 1 to 10 that some pair of exact counts consistent with the two shown numbers allows.
        var candidates = Enumerable.Range(1, 10)
            .Where(k => Consistent(shownTotal).Any(t => Consistent(shownPart).Contains(t - k)))
            .ToList();
        output.WriteLine($"shown {total.Shown.Count.Display} and {part.Shown.Count.Display}: the difference could be any of {string.Join(", ", candidates)} (truth 3)");

        Assert.Contains(3, candidates);
        Assert.True(candidates.Count >= 2, $"the shown counts pin the difference: {string.Join(", ", candidates)}");
        // Asking again, writing the subgroup out, or wrapping it in another saved subgroup draws no fresh noise to average.
        Assert.Equal(total.Shown.Count, totalAgain.Shown.Count);
        Assert.Equal(total.Shown.Count, totalWrittenOut.Shown.Count);
        Assert.Equal(total.Shown.Count, wrappedTwice.Shown.Count);
    }

    /// <summary>The exact counts that can show as <paramref name="shown"/>: from the threshold up, within the noise of it.</summary>
    private static IEnumerable<long> Consistent(long shown) =>
        Enumerable.Range(-SmallCellPolicy.DefaultNoiseRange, (2 * SmallCellPolicy.DefaultNoiseRange) + 1)
            .SelectMany(noise => shown == SmallCellPolicy.DefaultThreshold
                ? Enumerable.Range(SmallCellPolicy.DefaultThreshold, SmallCellPolicy.DefaultNoiseRange + 1).Select(e => (long)e)
                : [shown - noise])
            .Where(exact => exact >= SmallCellPolicy.DefaultThreshold)
            .Distinct();
}

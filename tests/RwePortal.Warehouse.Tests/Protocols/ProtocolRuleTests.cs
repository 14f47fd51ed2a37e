using System.Text.Json.Nodes;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Warehouse.Tests.Protocols;

/// <summary>Each rule a schema cannot say, broken once in an otherwise valid example: refused, named by component and node path.</summary>
public sealed class ProtocolRuleTests
{
    private static readonly Dictionary<string, (string Example, Action<JsonObject> Edit)> Cases = new()
    {
        ["covariate without window"] = (ProtocolExamples.Synthetic, r => r["assignment"]!["covariates"]![1]!.AsObject().Remove("window")),
        ["duplicate covariate name"] = (ProtocolExamples.Synthetic, r => r["assignment"]!["covariates"]![2]!["name"] = "conditions"),
        ["truncation upside down"] = (ProtocolExamples.Synthetic, r => r["analysisPlan"]!["truncation"] = new JsonObject { ["lower"] = 0.5, ["upper"] = 0.5 }),
        ["matching settings without matching"] = (ProtocolExamples.Synthetic, r => r["analysisPlan"]!["matching"] = new JsonObject { ["ratio"] = 1 }),
        ["matching without settings"] = (ProtocolExamples.Eunomia, r => r["analysisPlan"]!.AsObject().Remove("matching")),
        ["stratification without strata"] = (ProtocolExamples.Synthetic, r =>
        {
            r["analysisPlan"]!["adjustment"] = "stratification";
            r["analysisPlan"]!.AsObject().Remove("truncation");
        }),
        ["folds on a dense model"] = (ProtocolExamples.Synthetic, r => r["analysisPlan"]!["propensityScore"]!["model"] = "dense"),
        ["equipoise upside down"] = (ProtocolExamples.Synthetic, r => r["analysisPlan"]!["diagnostics"]!["equipoise"]!["lower"] = 0.8),
        ["follow-up not ending at the outcome"] = (ProtocolExamples.Synthetic, r => r["followUp"]!["endAt"] = new JsonArray("death", "endOfData")),
        ["gap without discontinuation"] = (ProtocolExamples.Synthetic, r => r["followUp"]!["censorAt"] = new JsonObject { ["switch"] = true, ["allowedGapDays"] = 30 }),
        ["discontinuation without gap"] = (ProtocolExamples.Eunomia, r => r["followUp"]!["censorAt"]!.AsObject().Remove("allowedGapDays")),
        ["age upside down"] = (ProtocolExamples.Synthetic, r => r["eligibility"]!["age"] = new JsonObject { ["min"] = 80, ["max"] = 18 }),
        ["enrollment gap as long as enrollment"] = (ProtocolExamples.Synthetic, r => r["eligibility"]!["continuousEnrollment"] = new JsonObject { ["days"] = 30, ["allowedGapDays"] = 30 }),
        ["study period upside down"] = (ProtocolExamples.Synthetic, r => r["timeZero"]!["studyPeriod"]!["from"] = "2025-01-01"),
        ["study period not a date"] = (ProtocolExamples.Synthetic, r => r["timeZero"]!["studyPeriod"]!["to"] = "2024-02-30"),
        ["duplicate heterogeneity name"] = (ProtocolExamples.Synthetic, r => r["analysisPlan"]!["heterogeneity"]![1]!["name"] = "chronic kidney disease"),
        ["outcome event rule of the criteria model"] = (ProtocolExamples.Synthetic, r => r["outcome"]!["event"]!["concepts"] = new JsonArray(new JsonObject { ["id"] = 316139, ["exclude"] = true })),
    };

    public static TheoryData<string, string, string, string> Rules() => new()
    {
        { "covariate without window", "assignment", "assignment.covariates[1].window", "needs a window before time zero" },
        { "duplicate covariate name", "assignment", "assignment.covariates[2].name", "already named \"conditions\"" },
        { "truncation upside down", "analysisPlan", "analysisPlan.truncation.lower", "must be below the upper one" },
        { "matching settings without matching", "analysisPlan", "analysisPlan.matching", "the adjustment is not matching" },
        { "matching without settings", "analysisPlan", "analysisPlan.matching", "needs the matching ratio" },
        { "stratification without strata", "analysisPlan", "analysisPlan.stratification", "needs the number of strata" },
        { "folds on a dense model", "analysisPlan", "analysisPlan.propensityScore.crossValidationFolds", "a dense model has none" },
        { "equipoise upside down", "analysisPlan", "analysisPlan.diagnostics.equipoise.lower", "below the upper one" },
        { "follow-up not ending at the outcome", "followUp", "followUp.endAt", "add \"outcome\"" },
        { "gap without discontinuation", "followUp", "followUp.censorAt.allowedGapDays", "which is not asked for" },
        { "discontinuation without gap", "followUp", "followUp.censorAt.allowedGapDays", "needs the allowed gap" },
        { "age upside down", "eligibility", "eligibility.age.min", "min is greater than max" },
        { "enrollment gap as long as enrollment", "eligibility", "eligibility.continuousEnrollment.allowedGapDays", "as long as the enrollment" },
        { "study period upside down", "timeZero", "timeZero.studyPeriod.from", "from is after to" },
        { "study period not a date", "timeZero", "timeZero.studyPeriod.to", "not a calendar date" },
        { "duplicate heterogeneity name", "analysisPlan", "analysisPlan.heterogeneity[1].name", "already named" },
        { "outcome event rule of the criteria model", "outcome", "outcome.event.concepts", "at least one concept that is not excluded" },
    };

    [Theory]
    [MemberData(nameof(Rules))]
    public void A_broken_rule_is_refused_in_its_component_at_its_node(string rule, string component, string path, string words)
    {
        var (example, edit) = Cases[rule];
        var root = JsonNode.Parse(ProtocolExamples.Read(example))!.AsObject();
        edit(root);

        var result = ProtocolParser.Parse(root.ToJsonString());

        Assert.False(result.IsValid, rule + " was accepted");
        Assert.True(
            result.Errors.Any(e => e.Component == component && e.Path == path && e.Message.Contains(words, StringComparison.Ordinal)),
            $"{rule}: expected {component}: {path}: …{words}…, got: " + string.Join(" | ", result.Errors));
        Assert.True(ProtocolParser.Parse(ProtocolExamples.Read(example)).IsValid, "the example itself is valid");
    }

    [Fact]
    public void The_preview_input_needs_the_strategies_and_takes_nothing_else_it_does_not_need()
    {
        var draft = ProtocolParser.ParseDraft("""{"version": 1, "outcome": {"label": "x", "event": {"kind": "condition", "concepts": [{"id": 1}]}}}""").Protocol!;
        var full = ProtocolParser.Parse(ProtocolExamples.Read(ProtocolExamples.Synthetic)).Protocol!;

        var input = ProtocolPreviewInput.From(full)!;

        Assert.Null(ProtocolPreviewInput.From(draft));
        Assert.Same(full.Strategies, input.Strategies);
        Assert.Same(full.Eligibility, input.Eligibility);
        Assert.Same(full.TimeZero, input.TimeZero);
    }
}

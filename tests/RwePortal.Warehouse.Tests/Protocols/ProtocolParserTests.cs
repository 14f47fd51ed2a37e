using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Warehouse.Tests.Protocols;

/// <summary>Untrusted protocols are refused with the component, the node path and the rule; valid ones become records.</summary>
public sealed class ProtocolParserTests
{
    private static IReadOnlyList<ProtocolError> Errors(string json)
    {
        var result = ProtocolParser.Parse(json);
        Assert.False(result.IsValid, "the protocol should be refused");
        Assert.Null(result.Protocol);
        Assert.NotEmpty(result.Errors);
        return result.Errors;
    }

    private static void AssertError(IReadOnlyList<ProtocolError> errors, string component, string path, string words) =>
        Assert.True(
            errors.Any(e => e.Component == component && e.Path == path && e.Message.Contains(words, StringComparison.Ordinal)),
            $"expected {component}: {path}: …{words}…, got: " + string.Join(" | ", errors));

    [Fact]
    public void Every_example_in_the_docs_is_valid_and_complete()
    {
        var names = ProtocolExamples.All().ToList();
        Assert.Equal([ProtocolExamples.Eunomia, "synthetic-arni-vs-enalapril-per-protocol.json", ProtocolExamples.Synthetic], names);
        foreach (var name in names)
        {
            var result = ProtocolParser.Parse(ProtocolExamples.Read(name));
            Assert.True(result.IsValid, name + ": " + string.Join("; ", result.Errors));
            Assert.Empty(result.Errors);
            Assert.True(result.Protocol!.IsComplete);
            Assert.Equal(ProtocolComponents.All, result.Protocol.Components.Keys);
        }
    }

    [Fact]
    public void The_synthetic_example_reads_into_its_records()
    {
        var p = ProtocolParser.Parse(ProtocolExamples.Read(ProtocolExamples.Synthetic)).Protocol!;

        Assert.Equal([2000000402], p.Strategies!.Treatment.Concepts.Select(c => c.Id));
        Assert.Equal([1341927], p.Strategies.Comparator.Concepts.Select(c => c.Id));
        Assert.Equal(365, p.Strategies.NewUserWashoutDays);
        Assert.Equal(18, p.Eligibility!.MinAge);
        Assert.Equal(new ContinuousEnrollment(365, 30), p.Eligibility.ContinuousEnrollment);
        Assert.Equal(new PriorOutcomeExclusion(null), p.Eligibility.ExcludePriorOutcome);
        var hf = Assert.IsType<EventCriterion>(Assert.Single(p.Eligibility.Criteria));
        Assert.Equal("eligibility.criteria[0]", hf.Path);
        Assert.Equal(new Window(null, 0, null, null), hf.Window);
        Assert.Equal(new DateOnly(2021, 1, 1), p.TimeZero!.StudyPeriodFrom);
        Assert.Equal(730, p.FollowUp!.MaxDays);
        Assert.Equal(EventDomain.Condition, p.Outcome!.Event.Domain);
        Assert.Equal([9201], p.Outcome.Event.VisitTypes!);
        Assert.Equal(Occurrence.First, p.Outcome.Event.Occurrence);
        Assert.Equal(ContrastType.IntentionToTreat, p.Contrast!.Type);
        Assert.Equal(Estimand.Ate, p.AnalysisPlan!.Estimand);
        Assert.Equal(PsModelKind.L1, p.AnalysisPlan.PropensityScore.Model);
        Assert.Equal([365, 730], p.AnalysisPlan.HorizonsDays);
        Assert.Equal(3, p.AnalysisPlan.Heterogeneity.Count);
        Assert.IsType<WearableCriterion>(p.AnalysisPlan.Heterogeneity[2].Criteria[0]);
        Assert.Equal(0.1, p.AnalysisPlan.Diagnostics.MaxAbsSmd);
    }

    [Fact]
    public void An_unknown_field_is_refused_at_its_node_in_its_component()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["strategies"]!["treatment"]!["concepts"]![0]!["dose"] = 5);

        AssertError(Errors(json), "strategies", "strategies.treatment.concepts[0].dose", "unknown field");
    }

    [Fact]
    public void A_wrong_type_is_refused_at_its_node()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["strategies"]!["treatment"]!["concepts"]![0]!["id"] = "2000000402");

        AssertError(Errors(json), "strategies", "strategies.treatment.concepts[0].id", "");
    }

    [Fact]
    public void An_unknown_field_inside_an_eligibility_criterion_keeps_the_criteria_node_path()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["eligibility"]!["criteria"]![0]!["window"]!["days"] = 30);

        AssertError(Errors(json), "eligibility", "eligibility.criteria[0].window.days", "unknown field");
    }

    [Fact]
    public void A_criteria_rule_inside_a_heterogeneity_subgroup_is_named_by_its_path()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r =>
            r["analysisPlan"]!["heterogeneity"]![0]!["criteria"]![0]!["window"] = new JsonObject { ["start"] = -1, ["end"] = -30 });

        AssertError(Errors(json), "analysisPlan", "analysisPlan.heterogeneity[0].criteria[0].window.start", "start is after end");
    }

    [Fact]
    public void A_missing_component_is_named_and_refused_for_submission()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r.Remove("outcome"));

        AssertError(Errors(json), "outcome", "outcome", "missing");
    }

    [Fact]
    public void A_draft_may_miss_components_and_fields_but_lists_what_submission_needs()
    {
        var json = """{"version": 1, "general": {"title": "Draft"}, "strategies": {"treatment": {"label": "A", "concepts": [{"id": 1}]}}}""";

        var result = ProtocolParser.ParseDraft(json);

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        Assert.Equal("Draft", result.Protocol!.General!.Title);
        Assert.Null(result.Protocol.Strategies);
        Assert.Equal(["general", "strategies"], result.Protocol.Components.Keys);
        Assert.Contains(result.Errors, e => e.Component == "outcome" && e.Message.Contains("missing", StringComparison.Ordinal));
        Assert.Contains(result.Errors, e => e.Component == "strategies" && e.Path == "strategies");
        Assert.False(ProtocolParser.Parse(json).IsValid);
    }

    [Fact]
    public void A_draft_with_a_wrong_type_or_an_unknown_field_is_refused()
    {
        var wrongType = ProtocolParser.ParseDraft("""{"version": 1, "followUp": {"maxDays": "two years"}}""");
        var unknown = ProtocolParser.ParseDraft("""{"version": 1, "general": {"title": "x", "author": "someone"}}""");
        var unknownComponent = ProtocolParser.ParseDraft("""{"version": 1, "sponsor": {}}""");

        Assert.False(wrongType.IsValid);
        Assert.Contains(wrongType.Errors, e => e.Component == "followUp" && e.Path == "followUp.maxDays");
        Assert.False(unknown.IsValid);
        Assert.Contains(unknown.Errors, e => e.Component == "general" && e.Path == "general.author" && e.Message.StartsWith("unknown field", StringComparison.Ordinal));
        Assert.False(unknownComponent.IsValid);
        Assert.Contains(unknownComponent.Errors, e => e.Path == "sponsor");
    }

    [Fact]
    public void A_grace_period_longer_than_follow_up_is_an_error_of_the_strategies()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["strategies"]!["gracePeriodDays"] = 800);

        AssertError(Errors(json), "strategies", "strategies.gracePeriodDays", "longer than the maximum follow-up");
    }

    [Fact]
    public void Treatment_and_comparator_sharing_a_concept_is_an_error_at_the_comparator_concept()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r =>
            r["strategies"]!["comparator"]!["concepts"]!.AsArray().Add(new JsonObject { ["id"] = 2000000402 }));

        AssertError(Errors(json), "strategies", "strategies.comparator.concepts[1].id", "in both the treatment and the comparator");
    }

    [Fact]
    public void A_horizon_beyond_the_maximum_follow_up_is_an_error_of_the_analysis_plan()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["analysisPlan"]!["horizonsDays"] = new JsonArray(365, 1095));

        AssertError(Errors(json), "analysisPlan", "analysisPlan.horizonsDays[1]", "beyond the maximum follow-up");
    }

    [Fact]
    public void A_per_protocol_contrast_without_a_discontinuation_gap_is_an_error_of_the_contrast()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["contrast"]!["type"] = "perProtocol");

        AssertError(Errors(json), "contrast", "contrast.type", "censors at discontinuation");
    }

    [Fact]
    public void An_intention_to_treat_contrast_that_censors_at_switch_is_an_error_of_the_contrast()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Eunomia, r => r["contrast"]!["type"] = "intentionToTreat");

        AssertError(Errors(json), "contrast", "contrast.type", "does not censor");
    }

    [Fact]
    public void A_covariate_window_reaching_time_zero_is_an_error_of_the_assignment()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r =>
            r["assignment"]!["covariates"]![1]!["window"] = new JsonObject { ["start"] = -365, ["end"] = 0 });

        AssertError(Errors(json), "assignment", "assignment.covariates[1].window.end", "strictly before time zero");
    }

    [Fact]
    public void A_propensity_covariate_that_the_assignment_does_not_define_is_named()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Eunomia, r =>
            r["analysisPlan"]!["propensityScore"]!["covariates"] = new JsonArray("demographics", "genome"));

        AssertError(Errors(json), "analysisPlan", "analysisPlan.propensityScore.covariates[1]", "\"genome\" is not a covariate group");
    }

    [Fact]
    public void Overlap_weights_with_matching_and_truncation_without_weighting_are_errors_of_the_plan()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Eunomia, r =>
        {
            r["analysisPlan"]!["estimand"] = "overlap";
            r["analysisPlan"]!["truncation"] = new JsonObject { ["lower"] = 0.01, ["upper"] = 0.99 };
        });

        var errors = Errors(json);

        AssertError(errors, "analysisPlan", "analysisPlan.estimand", "needs adjustment by weighting");
        AssertError(errors, "analysisPlan", "analysisPlan.truncation", "applies only to adjustment by weighting");
    }

    [Fact]
    public void A_negative_control_that_is_the_outcome_is_refused()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Eunomia, r => r["analysisPlan"]!["negativeControlOutcomes"] = new JsonArray(81151, 192671));

        AssertError(Errors(json), "analysisPlan", "analysisPlan.negativeControlOutcomes[1]", "is the outcome or a strategy");
    }

    [Fact]
    public void A_blanking_period_as_long_as_follow_up_and_a_washout_longer_than_the_look_back_are_named()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r =>
        {
            r["outcome"]!["blankingDays"] = 730;
            r["eligibility"]!["priorObservationDays"] = 180;
        });

        var errors = Errors(json);

        AssertError(errors, "outcome", "outcome.blankingDays", "leaves no follow-up");
        AssertError(errors, "eligibility", "eligibility.priorObservationDays", "shorter than the new-user washout");
    }

    [Fact]
    public void Version_two_malformed_json_duplicates_and_oversized_documents_are_refused_not_thrown()
    {
        Assert.Contains(Errors(ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["version"] = 2)), e => e.Path == "version" && e.Component == "general");
        Assert.Contains(Errors("{\"version\": 1,"), e => e.Message.StartsWith("not valid JSON", StringComparison.Ordinal));
        Assert.Contains(Errors("""{"version": 1, "version": 1}"""), e => e.Message.StartsWith("not valid JSON", StringComparison.Ordinal));
        Assert.Contains(Errors(new string(' ', ProtocolParser.MaxDocumentLength + 1)), e => e.Message.Contains("longer than", StringComparison.Ordinal));
        Assert.Contains(Errors("[1, 2]"), e => e.Path == "");
        Assert.Contains(Errors(new string('[', 200) + new string(']', 200)), e => e.Message.StartsWith("not valid JSON", StringComparison.Ordinal));
    }

    [Fact]
    public void Too_many_eligibility_criteria_and_too_deep_groups_are_refused_with_paths()
    {
        var many = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r =>
        {
            var criteria = r["eligibility"]!["criteria"]!.AsArray();
            for (var i = 0; i < 31; i++)
            {
                criteria.Add(new JsonObject { ["kind"] = "sex", ["concepts"] = new JsonArray(8507) });
            }
        });
        JsonNode deep = new JsonObject { ["kind"] = "sex", ["concepts"] = new JsonArray(8507) };
        for (var i = 0; i < 10; i++)
        {
            deep = new JsonObject { ["all"] = new JsonArray(deep) };
        }

        var deepJson = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["eligibility"]!["criteria"] = new JsonArray(deep));

        Assert.Contains(Errors(many), e => e.Component == "eligibility" && e.Path == "eligibility.criteria");
        Assert.Contains(Errors(deepJson), e => e.Component == "eligibility" && e.Path.StartsWith("eligibility.criteria[0].all[0]", StringComparison.Ordinal)
            && e.Message.Contains("nest at most", StringComparison.Ordinal));
    }

    [Fact]
    public void Canonical_json_ignores_layout_property_order_and_integral_fractions_and_hashes_it()
    {
        var original = ProtocolParser.Parse(ProtocolExamples.Read(ProtocolExamples.Eunomia)).Protocol!;
        var reordered = JsonNode.Parse(ProtocolExamples.Read(ProtocolExamples.Eunomia))!.AsObject();
        var followUp = reordered["followUp"]!.AsObject();
        reordered.Remove("followUp");
        var rebuilt = new JsonObject { ["followUp"] = new JsonObject { ["endAt"] = followUp["endAt"]!.DeepClone(), ["censorAt"] = followUp["censorAt"]!.DeepClone(), ["maxDays"] = 365.0 } };
        foreach (var (key, value) in reordered.ToList())
        {
            reordered.Remove(key);
            rebuilt[key] = value;
        }

        var same = ProtocolParser.Parse(rebuilt.ToJsonString(new System.Text.Json.JsonSerializerOptions { WriteIndented = true })).Protocol!;

        var canonical = ProtocolCanonical.Json(original);
        Assert.Equal(canonical, ProtocolCanonical.Json(same));
        Assert.StartsWith("{\"version\":1,\"general\":{", canonical, StringComparison.Ordinal);
        Assert.Contains("\"followUp\":{\"censorAt\":{\"allowedGapDays\":30,\"discontinuation\":true,\"switch\":true},\"endAt\":[\"outcome\",\"death\",\"endOfData\"],\"maxDays\":365}", canonical, StringComparison.Ordinal);
        Assert.DoesNotContain("\n", canonical, StringComparison.Ordinal);
        Assert.DoesNotContain("\": ", canonical, StringComparison.Ordinal);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical))), ProtocolCanonical.Hash(same));
        Assert.Matches("^[0-9a-f]{64}$", ProtocolCanonical.Hash(original));
    }

    [Fact]
    public void A_change_in_one_component_changes_that_component_and_the_hash_only()
    {
        var original = ProtocolParser.Parse(ProtocolExamples.Read(ProtocolExamples.Synthetic)).Protocol!;
        var amended = ProtocolParser.Parse(ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["followUp"]!["maxDays"] = 1095)).Protocol!;

        var changed = ProtocolComponents.All.Where(c => original.Components[c] != amended.Components[c]).ToList();

        Assert.Equal(["followUp"], changed);
        Assert.NotEqual(ProtocolCanonical.Hash(original), ProtocolCanonical.Hash(amended));
    }

    [Fact]
    public void Eligibility_criteria_that_look_past_time_zero_are_refused_with_their_paths()
    {
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r => r["eligibility"]!["criteria"] = new JsonArray(
            new JsonObject { ["kind"] = "condition", ["concepts"] = new JsonArray(new JsonObject { ["id"] = 316139 }), ["window"] = new JsonObject { ["start"] = -30, ["end"] = 30 } },
            new JsonObject { ["kind"] = "condition", ["concepts"] = new JsonArray(new JsonObject { ["id"] = 316139 }) },
            new JsonObject { ["not"] = new JsonObject { ["kind"] = "drug", ["concepts"] = new JsonArray(new JsonObject { ["id"] = 1 }), ["occurrence"] = "last", ["window"] = new JsonObject { ["end"] = -1 } } }));

        var errors = Errors(json);

        AssertError(errors, "eligibility", "eligibility.criteria[0].window.end", "must end at time zero (day 0) or before");
        AssertError(errors, "eligibility", "eligibility.criteria[1].window", "give the window an end");
        AssertError(errors, "eligibility", "eligibility.criteria[2].not.occurrence", "the last occurrence may lie after it");
    }

    [Fact]
    public void Library_references_are_refused_because_a_protocol_travels_between_tenants()
    {
        var id = Guid.NewGuid().ToString();
        var json = ProtocolExamples.Edit(ProtocolExamples.Synthetic, r =>
        {
            r["strategies"]!["treatment"]!["concepts"]!.AsArray().Add(new JsonObject { ["conceptSet"] = id });
            r["eligibility"]!["criteria"]!.AsArray().Add(new JsonObject { ["kind"] = "subgroup", ["id"] = id });
        });

        var errors = Errors(json);

        Assert.Contains(errors, e => e.Component == "strategies" && e.Path == "strategies.treatment.concepts[1].conceptSet");
        Assert.Contains(errors, e => e.Component == "eligibility" && e.Path == "eligibility.criteria[1]");
    }
}

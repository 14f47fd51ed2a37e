using System.Globalization;
using System.Text.Json.Nodes;
using RwePortal.Warehouse.Cohorts;
using RwePortal.Warehouse.Protocols;
using RwePortal.Web.Features.Subgroups;

namespace RwePortal.Web.Features.Protocols;

/// <summary>
/// A protocol document read for display: the parsed (possibly incomplete) definition and, for the criteria parts, the
/// subgroup builder's drafts so they can be shown in words by <see cref="DefinitionSummary"/>.
/// </summary>
public sealed class ProtocolText
{
    private ProtocolText(ProtocolDefinition? definition, JsonObject? root)
    {
        Definition = definition;
        Root = root;
    }

    public ProtocolDefinition? Definition { get; }

    public JsonObject? Root { get; }

    public static ProtocolText Read(string json)
    {
        JsonObject? root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject;
        }
        catch (System.Text.Json.JsonException)
        {
            root = null;
        }

        return new ProtocolText(ProtocolParser.ParseDraft(json).Protocol, root);
    }

    /// <summary>The eligibility criteria as a subgroup draft (no index event: time zero is the index).</summary>
    public SubgroupDraft EligibilityCriteria() => CriteriaDraft(Root?["eligibility"]?["criteria"] as JsonArray);

    /// <summary>A heterogeneity subgroup's criteria as a subgroup draft.</summary>
    public static SubgroupDraft CriteriaDraft(JsonArray? criteria)
    {
        var draft = new SubgroupDraft();
        if (criteria is not null)
        {
            foreach (var node in criteria.OfType<JsonObject>())
            {
                try
                {
                    draft.Criteria.Add(CriterionDraft.FromJson(node));
                }
                catch (FormatException)
                {
                    // A node the builder cannot show stays out of the words; the JSON view still has it.
                }
            }
        }

        return draft;
    }

    /// <summary>The outcome event in words, as the subgroup builder describes a criterion.</summary>
    public string? OutcomeEvent()
    {
        if (Root?["outcome"]?["event"] is not JsonObject node)
        {
            return null;
        }

        try
        {
            return CriterionText.Describe(CriterionDraft.FromJson(node));
        }
        catch (FormatException)
        {
            return node.ToJsonString();
        }
    }

    public static string Concepts(IReadOnlyList<ConceptItem> concepts) =>
        concepts.Count == 0
            ? "no concept yet"
            : string.Join(", ", concepts.Select(c => $"{(c.Exclude ? "not " : "")}concept {c.Id.ToString(CultureInfo.InvariantCulture)}{(c.Descendants ? " and descendants" : "")}"));

    public static string Days(int? days) => days is null ? "not set" : $"{days.Value.ToString(CultureInfo.InvariantCulture)} days";

    public static string FollowUpEnds(IReadOnlyList<FollowUpEnd> ends) =>
        string.Join(", ", ends.Select(e => e switch
        {
            FollowUpEnd.Outcome => "the outcome",
            FollowUpEnd.Death => "death",
            FollowUpEnd.Disenrollment => "disenrollment",
            _ => "the end of data",
        }));

    public static string Contrast(ContrastType type) => type == ContrastType.IntentionToTreat
        ? "intention-to-treat analogue (follow-up regardless of adherence after assignment)"
        : "per-protocol effect (censored at deviation from the assigned strategy, as the follow-up says)";
}

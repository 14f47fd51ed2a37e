using System.Text.Json.Nodes;
using RwePortal.Warehouse.Protocols;

namespace RwePortal.Warehouse.Tests.Protocols;

/// <summary>
/// Every node of both example protocols replaced, one at a time, by hostile values (SQL in strings, wrong types,
/// out-of-range numbers, empty and huge containers, deep nesting): the parser never throws, refuses with errors that
/// name a known component, and whatever it accepts still compiles to a preview whose SQL holds none of the strings.
/// </summary>
public sealed class ProtocolParserFuzzTests
{
    private const string Injection = "x'); DROP TABLE person; --";

    private static IEnumerable<Func<JsonNode?>> Hostile() =>
    [
        () => JsonValue.Create(Injection),
        () => JsonValue.Create(-1),
        () => JsonValue.Create(2147483648L),
        () => JsonValue.Create(1.5),
        () => JsonValue.Create(true),
        () => null,
        () => new JsonArray(),
        () => new JsonObject(),
        () => new JsonArray(Enumerable.Range(0, 600).Select(i => (JsonNode?)new JsonObject { ["id"] = i + 1 }).ToArray()),
        () => new JsonObject { ["not"] = new JsonObject { ["not"] = new JsonObject { ["not"] = new JsonObject { ["kind"] = "sex", ["concepts"] = new JsonArray(8507) } } } },
        () => JsonValue.Create(new string('a', 20_000)),
    ];

    /// <summary>Paths to every node of a JSON tree (object properties and array items).</summary>
    private static IEnumerable<(JsonNode Parent, object Key)> Slots(JsonNode node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o.ToList())
                {
                    yield return (o, key);
                    if (child is not null)
                    {
                        foreach (var slot in Slots(child))
                        {
                            yield return slot;
                        }
                    }
                }

                break;
            case JsonArray a:
                for (var i = 0; i < a.Count; i++)
                {
                    yield return (a, i);
                    if (a[i] is { } child)
                    {
                        foreach (var slot in Slots(child))
                        {
                            yield return slot;
                        }
                    }
                }

                break;
        }
    }

    [Theory]
    [InlineData(ProtocolExamples.Synthetic)]
    [InlineData(ProtocolExamples.Eunomia)]
    public void Hostile_values_at_every_node_are_refused_or_parsed_never_thrown(string example)
    {
        var slotCount = Slots(JsonNode.Parse(ProtocolExamples.Read(example))!).Count();
        var refused = 0;
        for (var s = 0; s < slotCount; s++)
        {
            foreach (var make in Hostile())
            {
                var root = JsonNode.Parse(ProtocolExamples.Read(example))!;
                var (parent, key) = Slots(root).ElementAt(s);
                if (parent is JsonObject o)
                {
                    o[(string)key] = make();
                }
                else
                {
                    ((JsonArray)parent)[(int)key] = make();
                }

                var json = root.ToJsonString();
                var result = ProtocolParser.Parse(json);
                var draft = ProtocolParser.ParseDraft(json);
                if (!result.IsValid)
                {
                    refused++;
                    Assert.NotEmpty(result.Errors);
                    Assert.All(result.Errors, e => Assert.True(e.Component == "general" || ProtocolComponents.All.Contains(e.Component), e.ToString()));
                }
                else
                {
                    var input = ProtocolPreviewInput.From(result.Protocol!)!;
                    var compiled = ProtocolPreviewCompiler.Compile(input, "cdm_fuzz", "fuzz", "research");
                    Assert.DoesNotContain("DROP TABLE", compiled.Sql, StringComparison.Ordinal);
                    Assert.Contains("gov.consented_persons(@source, @purpose)", compiled.Sql, StringComparison.Ordinal);
                }

                Assert.True(draft.IsValid || draft.Errors.Count > 0);
            }
        }

        Assert.True(refused > slotCount, $"most hostile values are refused ({refused} of {slotCount * Hostile().Count()})");
    }
}

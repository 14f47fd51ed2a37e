using System.Text.Json;
using RwePortal.Application.Analyses;

namespace RwePortal.Application.Jobs;

/// <summary>
/// How the result document, the step timings and the reproducibility facts are stored in app.analysis_runs (jsonb) and
/// exported: camelCase property names (the list's subgroup filter reads <c>result-&gt;'subgroups'</c>).
/// </summary>
public static class AnalysisRunJson
{
    public static JsonSerializerOptions Options { get; } = new(JsonSerializerDefaults.Web) { WriteIndented = false };

    public static string Serialize<T>(T value) => JsonSerializer.Serialize(value, Options);

    public static T? Deserialize<T>(string? json) => json is null ? default : JsonSerializer.Deserialize<T>(json, Options);

    public static AnalysisResultDocument? Result(string? json) => Deserialize<AnalysisResultDocument>(json);
}

namespace RwePortal.Web.Features.Subgroups;

/// <summary>What the builder knows about each kind of criterion of docs/criteria.md: its name, icon and which fields it takes.</summary>
public sealed record CriterionKind(
    string Key,
    string Title,
    string Icon,
    string Modality,
    string? ConceptDomain = null,
    bool Events = false,
    bool TakesValue = false)
{
    public bool IsGroup => Key is "all" or "any" or "not";

    public bool TakesConcepts => Events || Key is "adherence";

    public static readonly IReadOnlyList<CriterionKind> All =
    [
        new("age", "Age at index", MudBlazor.Icons.Material.Filled.Cake, "Demographics"),
        new("sex", "Sex", MudBlazor.Icons.Material.Filled.Wc, "Demographics"),
        new("condition", "Condition", MudBlazor.Icons.Material.Filled.Healing, "EHR", "Condition", Events: true),
        new("drug", "Drug", MudBlazor.Icons.Material.Filled.Medication, "EHR", "Drug", Events: true),
        new("procedure", "Procedure", MudBlazor.Icons.Material.Filled.MedicalServices, "EHR", "Procedure", Events: true),
        new("observation", "Observation", MudBlazor.Icons.Material.Filled.Visibility, "EHR", "Observation", Events: true, TakesValue: true),
        new("measurement", "Measurement", MudBlazor.Icons.Material.Filled.Straighten, "EHR", "Measurement", Events: true, TakesValue: true),
        new("visit", "Visits", MudBlazor.Icons.Material.Filled.LocalHospital, "EHR / claims", "Visit", Events: true),
        new("variant", "Genomic variant", MudBlazor.Icons.Material.Filled.Biotech, "Genomics"),
        new("genomicScore", "Polygenic score", MudBlazor.Icons.Material.Filled.QueryStats, "Genomics"),
        new("wearable", "Wearable metric", MudBlazor.Icons.Material.Filled.Watch, "Wearables"),
        new("enrollment", "Continuous enrollment", MudBlazor.Icons.Material.Filled.EventAvailable, "Claims"),
        new("adherence", "Adherence (PDC)", MudBlazor.Icons.Material.Filled.Medication, "Claims", "Drug"),
        new("pro", "Patient-reported score", MudBlazor.Icons.Material.Filled.Assignment, "PRO", null, Events: true, TakesValue: true),
        new("subgroup", "Saved subgroup", MudBlazor.Icons.Material.Filled.Bookmarks, "Library"),
        new("all", "All of (group)", MudBlazor.Icons.Material.Filled.AccountTree, "Logic"),
        new("any", "Any of (group)", MudBlazor.Icons.Material.Filled.CallSplit, "Logic"),
        new("not", "Not", MudBlazor.Icons.Material.Filled.Block, "Logic"),
    ];

    /// <summary>The kinds an index event may be (docs/criteria.md: an event criterion, first or last occurrence).</summary>
    public static readonly IReadOnlyList<CriterionKind> IndexKinds = All.Where(k => k.Events).ToList();

    public static CriterionKind Of(string key) => All.FirstOrDefault(k => k.Key == key) ?? throw new ArgumentException($"unknown kind '{key}'", nameof(key));

    /// <summary>Visit types offered for visit criteria and "recorded during a visit of type" (OMOP visit concepts).</summary>
    public static readonly IReadOnlyList<(int Id, string Name)> VisitTypes =
    [
        (9201, "Inpatient visit"), (9202, "Outpatient visit"), (9203, "Emergency room visit"), (262, "Emergency room and inpatient visit"),
        (581477, "Office visit"), (5083, "Telehealth"),
    ];

    /// <summary>OMOP gender concepts.</summary>
    public static readonly IReadOnlyList<(int Id, string Name)> Sexes = [(8532, "Female"), (8507, "Male")];

    public static readonly IReadOnlyList<(string Key, string Name)> WearableMetrics =
        [("steps", "Daily steps"), ("restingHeartRate", "Resting heart rate (bpm)"), ("hrv", "HRV rMSSD (ms)"), ("sleepMinutes", "Sleep (minutes)")];

    public static readonly IReadOnlyList<string> Zygosities = ["heterozygous", "homozygous", "hemizygous"];

    public static readonly IReadOnlyList<string> Significances = ["pathogenic", "likely_pathogenic", "uncertain", "likely_benign", "benign"];
}

namespace RwePortal.Warehouse.Analyses;

/// <summary>One Charlson category: its number, name, weight and the SNOMED concepts whose descendants define it.</summary>
public sealed record CharlsonCategory(int Id, string Name, int Weight, IReadOnlyList<long> Ancestors);

/// <summary>
/// The Charlson comorbidity index as FeatureExtraction's CharlsonIndex analysis computes it: Deyo's adaptation
/// (Romano's category weights), categories defined by SNOMED ancestor concepts and their descendants in
/// concept_ancestor, conditions any time before time zero, without age points. A milder category counts 0 when its
/// severe form is present (diabetes / with complications, mild / moderate-severe liver disease, any malignancy /
/// metastatic solid tumour). The concept groups are listed in docs/covariates.md; CKD (46271022) and COPD (255573)
/// are named besides their category ancestors because small vocabularies (like the shipped subset) lack the ancestors,
/// and FeatureExtraction's current lists name both.
/// </summary>
public static class CharlsonIndex
{
    public static IReadOnlyList<CharlsonCategory> Categories { get; } =
    [
        new(1, "Myocardial infarction", 1, [4329847]),
        new(2, "Congestive heart failure", 1, [316139]),
        new(3, "Peripheral vascular disease", 1, [321052]),
        new(4, "Cerebrovascular disease", 1, [381591, 434056]),
        new(5, "Dementia", 1, [4182210]),
        new(6, "Chronic pulmonary disease", 1, [4063381, 255573]),
        new(7, "Rheumatologic disease", 1, [257628, 134442, 80800, 80809, 256197, 255348]),
        new(8, "Peptic ulcer disease", 1, [4247120]),
        new(9, "Mild liver disease", 1, [4064161, 4212540]),
        new(10, "Diabetes (mild to moderate)", 1, [201820]),
        new(11, "Diabetes with chronic complications", 2, [443767, 442793]),
        new(12, "Hemiplegia or paraplegia", 2, [192606, 374022]),
        new(13, "Renal disease", 2, [4030518, 46271022]),
        new(14, "Any malignancy", 2, [443392]),
        new(15, "Moderate to severe liver disease", 3, [4245975, 4029488, 192680, 24966]),
        new(16, "Metastatic solid tumor", 6, [432851]),
        new(17, "AIDS", 6, [439727]),
    ];

    /// <summary>(milder, severe): the milder category does not count when the severe one is present.</summary>
    public static IReadOnlyList<(int Milder, int Severe)> Hierarchy { get; } = [(10, 11), (9, 15), (14, 16)];

    /// <summary>The index of a person with these categories.</summary>
    public static int Score(IReadOnlySet<int> categories)
    {
        ArgumentNullException.ThrowIfNull(categories);
        var score = 0;
        foreach (var category in Categories)
        {
            if (categories.Contains(category.Id) && !Hierarchy.Any(h => h.Milder == category.Id && categories.Contains(h.Severe)))
            {
                score += category.Weight;
            }
        }

        return score;
    }
}
